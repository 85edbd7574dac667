"""The core app: auth glue, API tokens, background job records, access rules, base templates."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Callboard core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal import signals

        signals.connect()
