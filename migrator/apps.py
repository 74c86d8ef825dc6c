"""App configuration: loads the `cdms_migrator` modules, connects the signals, registers the CRM's failures."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class MigratorConfig(AppConfig):
    name = "migrator"
    verbose_name = "CDMS sync"
    # Picked up by the operations endpoints (core.ops), which never import the sync layer.
    readiness_checks = {
        "crm": "migrator.readiness.crm_answers",
        "watermarks": "migrator.readiness.watermarks_fresh",
    }
    metrics_collectors = ("migrator.metrics.WatermarkCollector",)

    def ready(self):
        from .conf import cdms_settings

        cdms_settings.check()  # a bad CDMS_* setting stops start-up
        autodiscover_modules("cdms_migrator")
        from . import signals  # noqa: F401 - connects the handlers
        from .failures import register_answers

        register_answers()
        from .observers import install

        install()
