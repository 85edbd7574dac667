"""The core app: auth glue, API tokens, the audit log, access rules, background job records, base templates."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Callboard core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal import audit, signals

        audit.install()
        signals.connect()
