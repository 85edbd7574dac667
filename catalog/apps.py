"""The catalog app: registers its tabs, menu items and home panels (no URL reversing here)."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Software catalog"

    def ready(self) -> None:
        from catalog import permissions, registrations

        registrations.register()
        permissions.register_hooks()
