"""App configuration: loads the `cdms_migrator` modules, connects the signals, registers the CRM's failures."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class MigratorConfig(AppConfig):
    name = "migrator"
    verbose_name = "CDMS sync"
    # Picked up by the operations endpoints (core.ops), which never import the sync layer.
    readiness_checks = {
        "crm": "migrator.ops.readiness.crm_answers",
        "watermarks": "migrator.ops.readiness.watermarks_fresh",
    }
    metrics_collectors = ("migrator.ops.metrics.WatermarkCollector",)

    def ready(self):
        # Imported only now: these modules reach models, which exist once the registry is ready.
        from .conf import cdms_settings
        from .field_domains import mark_read_only, teach_fields
        from .ops.failures import register_answers
        from .ops.observers import install
        from .write import signals  # noqa: F401 - connects the handlers

        cdms_settings.check()  # a bad CDMS_* setting stops start-up
        autodiscover_modules("cdms_migrator")
        teach_fields()
        mark_read_only()
        register_answers()
        install()
