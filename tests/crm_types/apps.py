"""The test-only synced app; its mappings are set aside until a test asks for them."""

from django.apps import AppConfig


class CRMTypesConfig(AppConfig):
    name = "tests.crm_types"
    label = "crm_types"
    verbose_name = "CRM types (tests)"

    def ready(self):
        from .registry import set_aside

        set_aside()
