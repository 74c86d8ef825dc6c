"""Admin pages for the reference lists and teams, with their version history.

While the legacy CRM owns them they are shown read-only (`core.owners`); once it is retired they
are edited here like any other table.
"""

from django.contrib import admin

from core.admin import CRMVersionAdmin

from .models import LISTS, Sector


class ReferenceListAdmin(CRMVersionAdmin):
    """A list's entries: searchable by name."""

    list_display = ["name", "modified"]
    search_fields = ["name"]
    ordering = ["name", "id"]
    readonly_fields = ["cdms_pk", "created", "modified"]

    class Media:
        css = {"all": ["core/admin.css"]}

    fields = ["name", *readonly_fields]


class SectorAdmin(ReferenceListAdmin):
    """Sectors, with their parent sector (picked by search) and filtered by it."""

    list_display = ["name", "parent", "modified"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    fields = ["name", "parent", *ReferenceListAdmin.readonly_fields]


for _, model in LISTS:
    admin.site.register(model, SectorAdmin if model is Sector else ReferenceListAdmin)
