"""Admin pages for contacts, with their version history."""

from django.contrib import admin

from core.admin import CRMVersionAdmin

from .models import Contact


@admin.register(Contact)
class ContactAdmin(CRMVersionAdmin):
    """Contacts: searched by name and email, filtered by title and country; lookups picked by search."""

    list_display = ["last_name", "first_name", "email_address", "job_title", "organisation"]
    list_filter = ["title", "country", "primary", "modified"]
    list_select_related = ["organisation"]
    search_fields = ["first_name", "last_name", "email_address"]
    ordering = ["last_name", "first_name", "id"]  # a total order its index reads: no page sorts the table
    autocomplete_fields = ["organisation", "title", "country"]
    readonly_fields = ["cdms_pk", "created", "modified"]
    fields = [
        "title",
        "first_name",
        "last_name",
        "email_address",
        "job_title",
        "organisation",
        "primary",
        "telephone_countrycode",
        "telephone_number",
        "address_1",
        "address_2",
        "address_3",
        "address_4",
        "address_town",
        "address_county",
        "address_postcode",
        "country",
        *readonly_fields,
    ]

    class Media:
        css = {"all": ["core/admin.css"]}
