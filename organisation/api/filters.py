"""Query parameters that filter the organisation list: `?name=Acme`, `?city__icontains=lond`, ...

Every value is validated (`core.api_filters`), so a value no query could take (a year 0, a
number with a fraction for a whole-number field, a text longer than its field) is a 400 naming
the parameter, never an error further down.
"""

from core.api_filters import FILTER_OVERRIDES, MOMENT_LOOKUPS, NUMBER_LOOKUPS, TEXT_LOOKUPS, YearFilter
from core.lookup_filters import LinkFilterSet
from organisation.models import Organisation

TEXT, NUMBER, MOMENT = TEXT_LOOKUPS, NUMBER_LOOKUPS, MOMENT_LOOKUPS


class OrganisationFilter(LinkFilterSet):
    """One parameter per field and lookup; the exact match is named as the field."""

    last_verified__year = YearFilter(field_name="last_verified")
    created__year = YearFilter(field_name="created")
    modified__year = YearFilter(field_name="modified")

    class Meta:
        model = Organisation
        fields = {
            "name": TEXT,
            "alias": TEXT,
            "uk_organisation": ["exact", "isnull"],
            "email_address": TEXT,
            "city": TEXT,
            "postcode": TEXT,
            "number_of_employees": NUMBER,
            "last_verified": MOMENT,
            "company_number": TEXT,
            "registered_address_1": TEXT,
            "registered_address_2": TEXT,
            "registered_address_3": TEXT,
            "registered_address_4": TEXT,
            "registered_address_town": TEXT,
            "registered_address_county": TEXT,
            "registered_address_postcode": TEXT,
            "description": ["icontains"],
            "website": TEXT,
            "cdms_pk": ["exact"],
            "created": MOMENT,
            "modified": MOMENT,
        }
        links = ["country", "uk_region", "business_type", "sector", "employee_range", "turnover_range", "parent"]
        filter_overrides = FILTER_OVERRIDES
