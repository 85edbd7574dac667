"""The catalog app: registers its tabs, menu items and home panels (no URL reversing here)."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Software catalog"

    def ready(self) -> None:
        from catalog import registrations

        registrations.register()
        registrations.track_audited_models()
