"""TechDocs: builds docs-as-code from entities' repositories and serves them inside the portal."""

from django.apps import AppConfig


class TechdocsConfig(AppConfig):
    name = "techdocs"
    verbose_name = "TechDocs"

    def ready(self) -> None:
        from catalog.events import location_refreshed
        from techdocs import registrations, sync

        location_refreshed.connect(sync.on_location_refreshed, dispatch_uid="techdocs.on_location_refreshed")
        registrations.register()
