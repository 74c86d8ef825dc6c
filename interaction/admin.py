"""Admin pages for interactions, with their version history."""

from django.contrib import admin

from core.admin import CRMVersionAdmin

from .models import Interaction

LINKS = ["interaction_type", "adviser", "contact", "organisation", "team", "service"]


@admin.register(Interaction)
class InteractionAdmin(CRMVersionAdmin):
    """Interactions: searchable by subject, filtered by type, service, team and date; lookups picked by search."""

    list_display = ["subject", "date", "organisation", "contact", "adviser", "interaction_type"]
    list_filter = ["interaction_type", "service", "team", "date"]
    list_select_related = ["organisation", "contact", "adviser", "interaction_type"]
    search_fields = ["subject"]
    ordering = ["-date", "-id"]
    autocomplete_fields = LINKS
    readonly_fields = ["cdms_pk", "created", "modified"]
    fields = ["subject", "date", "notes", *LINKS, *readonly_fields]

    class Media:
        css = {"all": ["core/admin.css"]}
