"""The catalog app: registers its tabs, menu items and home panels (no URL reversing here)."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Software catalog"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from catalog import identity, permissions, registrations, signals

        registrations.register()
        signals.connect()
        permissions.register_hooks()
        # Every sign-in (SSO, password, admin) resolves the person's catalog identity.
        user_logged_in.connect(identity.on_user_logged_in, dispatch_uid="catalog.identity.on_user_logged_in")
        registrations.track_audited_models()
