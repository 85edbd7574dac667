from django.apps import AppConfig


class ScaffolderConfig(AppConfig):
    name = "scaffolder"

    def ready(self) -> None:
        from scaffolder import registrations
        from scaffolder.actions import register_builtin_actions

        register_builtin_actions()
        registrations.register()
