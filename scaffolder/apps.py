from django.apps import AppConfig


class ScaffolderConfig(AppConfig):
    name = "scaffolder"
