"""App configuration: loads every app's `cdms_migrator` module and connects the signal handlers."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class MigratorConfig(AppConfig):
    name = "migrator"
    verbose_name = "CDMS sync"

    def ready(self):
        autodiscover_modules("cdms_migrator")
        from . import signals  # noqa: F401 - connects the handlers
