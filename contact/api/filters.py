"""Query parameters that filter the contact list: `?last_name=Smith`, `?organisation=3`, ...

Values are validated as for organisations (`core.api_filters`): an invalid one is
a 400 naming the parameter.
"""

from contact.models import Contact
from core.api_filters import FILTER_OVERRIDES, MOMENT_LOOKUPS, TEXT_LOOKUPS, YearFilter
from core.lookup_filters import LinkFilterSet

TEXT, MOMENT = TEXT_LOOKUPS, MOMENT_LOOKUPS


class ContactFilter(LinkFilterSet):
    """One parameter per field and lookup; the exact match is named as the field."""

    created__year = YearFilter(field_name="created")
    modified__year = YearFilter(field_name="modified")

    class Meta:
        model = Contact
        fields = {
            "first_name": TEXT,
            "last_name": TEXT,
            "email_address": TEXT,
            "job_title": TEXT,
            "telephone_countrycode": TEXT,
            "telephone_number": TEXT,
            "address_1": TEXT,
            "address_2": TEXT,
            "address_3": TEXT,
            "address_4": TEXT,
            "address_town": TEXT,
            "address_county": TEXT,
            "address_postcode": TEXT,
            "primary": ["exact", "isnull"],
            "cdms_pk": ["exact"],
            "created": MOMENT,
            "modified": MOMENT,
        }
        # A lookup filters by the related row's id, existing or not (no such row: no contacts).
        links = ["organisation", "title", "country"]
        filter_overrides = FILTER_OVERRIDES
