from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "scorecards"

    def ready(self) -> None:
        from scorecards import kind  # noqa: F401 - registers the Scorecard kind with the catalog
        from scorecards.tabs import register_tabs

        register_tabs()
