"""Admin pages for organisations, with their version history."""

from django.contrib import admin

from core.admin import CRMVersionAdmin

from .models import Organisation


@admin.register(Organisation)
class OrganisationAdmin(CRMVersionAdmin):
    """Organisations: searchable by name, alias, city, postcode and email."""

    list_display = ["name", "city", "postcode", "number_of_employees", "uk_organisation", "last_verified"]
    list_filter = ["uk_organisation", "last_verified", "modified"]
    search_fields = ["name", "alias", "city", "postcode", "email_address"]
    ordering = ["name", "id"]  # a total order the (name, id) index reads, so no page sorts the table
    readonly_fields = ["cdms_pk", "created", "modified"]
    fields = [
        "name",
        "alias",
        "uk_organisation",
        "email_address",
        "city",
        "postcode",
        "number_of_employees",
        "last_verified",
        *readonly_fields,
    ]
