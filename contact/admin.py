"""Admin pages for contacts, with their version history."""

from django.contrib import admin

from core.admin import CRMVersionAdmin

from .models import Contact


@admin.register(Contact)
class ContactAdmin(CRMVersionAdmin):
    """Contacts: searchable by name and email; the organisation is picked by search, not a long list."""

    list_display = ["last_name", "first_name", "email_address", "organisation"]
    list_filter = ["modified"]
    list_select_related = ["organisation"]
    search_fields = ["first_name", "last_name", "email_address"]
    ordering = ["last_name", "first_name", "id"]  # a total order its index reads: no page sorts the table
    autocomplete_fields = ["organisation"]
    readonly_fields = ["cdms_pk", "created", "modified"]
    fields = ["first_name", "last_name", "email_address", "organisation", *readonly_fields]
