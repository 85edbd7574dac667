from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "scorecards"

    def ready(self) -> None:
        from catalog.events import demo_loaded, location_refreshed
        from scorecards import collectors, initiative_kind, kind, registrations  # noqa: F401 - kinds and collectors
        from scorecards.demo import add_demo_exemption
        from scorecards.home import register_home_panels
        from scorecards.notifying import register_categories
        from scorecards.tabs import register_tabs
        from scorecards.tasks import on_location_refreshed

        register_tabs()
        registrations.register()
        register_categories()
        register_home_panels()
        location_refreshed.connect(on_location_refreshed, dispatch_uid="scorecards.on_location_refreshed")
        demo_loaded.connect(add_demo_exemption, dispatch_uid="scorecards.add_demo_exemption")
