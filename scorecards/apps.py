from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "scorecards"

    def ready(self) -> None:
        from catalog.events import location_refreshed
        from scorecards import collectors, kind  # noqa: F401 - register the kind and the built-in collectors
        from scorecards.tabs import register_tabs
        from scorecards.tasks import on_location_refreshed

        register_tabs()
        location_refreshed.connect(on_location_refreshed, dispatch_uid="scorecards.on_location_refreshed")
