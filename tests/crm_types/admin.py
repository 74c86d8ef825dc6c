"""Admin pages for widgets, and for the widget list the CRM owns (read-only)."""

from django.contrib import admin

from core.admin import CRMVersionAdmin

from .models import ReferenceWidget, Widget


@admin.register(Widget)
class WidgetAdmin(CRMVersionAdmin):
    """Widgets, every type of field on one page."""

    list_display = ["name", "colour", "price", "weight", "quantity", "customer"]
    readonly_fields = ["cdms_pk", "created", "modified", "statecode", "statuscode", "price_base"]


@admin.register(ReferenceWidget)
class ReferenceWidgetAdmin(CRMVersionAdmin):
    """The widget list the CRM owns: shown, never edited."""

    list_display = ["name", "colour"]
