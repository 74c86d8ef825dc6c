"""Admin pages for advisers, with their version history (read-only while the CRM owns them)."""

from django.contrib import admin

from core.admin import CRMVersionAdmin

from .models import Adviser


@admin.register(Adviser)
class AdviserAdmin(CRMVersionAdmin):
    """Advisers: searchable by name and email, filtered by team."""

    list_display = ["last_name", "first_name", "email", "team"]
    list_filter = ["team"]
    list_select_related = ["team"]
    search_fields = ["first_name", "last_name", "email"]
    ordering = ["last_name", "first_name", "id"]
    autocomplete_fields = ["team"]
    readonly_fields = ["cdms_pk", "created", "modified"]

    class Media:
        css = {"all": ["core/admin.css"]}

    fields = ["first_name", "last_name", "email", "team", *readonly_fields]
