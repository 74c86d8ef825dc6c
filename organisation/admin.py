"""Admin pages for organisations, with their version history."""

from django.contrib import admin

from core.admin import CRMVersionAdmin

from .models import Organisation

LISTS = ["country", "uk_region", "business_type", "sector", "employee_range", "turnover_range"]


@admin.register(Organisation)
class OrganisationAdmin(CRMVersionAdmin):
    """Organisations: searched by name, address, email and company number; filtered by the reference lists."""

    list_display = ["name", "city", "postcode", "sector", "number_of_employees", "uk_organisation"]
    list_filter = [*LISTS, "uk_organisation", "last_verified", "modified"]
    list_select_related = ["sector"]
    search_fields = ["name", "alias", "city", "postcode", "email_address", "company_number"]
    ordering = ["name", "id"]  # a total order the (name, id) index reads, so no page sorts the table
    autocomplete_fields = [*LISTS, "parent"]
    readonly_fields = ["cdms_pk", "created", "modified"]
    fields = [
        "name",
        "alias",
        "uk_organisation",
        "email_address",
        "website",
        "city",
        "postcode",
        "number_of_employees",
        "last_verified",
        "company_number",
        "registered_address_1",
        "registered_address_2",
        "registered_address_3",
        "registered_address_4",
        "registered_address_town",
        "registered_address_county",
        "registered_address_postcode",
        "description",
        *LISTS,
        "parent",
        *readonly_fields,
    ]

    class Media:
        css = {"all": ["core/admin.css"]}
