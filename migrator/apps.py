"""App configuration."""

from django.apps import AppConfig


class MigratorConfig(AppConfig):
    name = "migrator"
