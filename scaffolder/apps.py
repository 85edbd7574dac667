from django.apps import AppConfig


class ScaffolderConfig(AppConfig):
    name = "scaffolder"

    def ready(self) -> None:
        from django.core import checks

        from scaffolder import registrations
        from scaffolder.actions import register_builtin_actions
        from scaffolder.git_remotes import check_setting

        register_builtin_actions()
        registrations.register()
        checks.register(check_setting)
