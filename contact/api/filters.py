"""Query parameters that filter the contact list: `?last_name=Smith`, `?organisation=3`, ...

Values are validated as for organisations (`core.api_filters`): an invalid one is
a 400 naming the parameter.
"""

from contact.models import Contact
from core.api_filters import (
    FILTER_OVERRIDES,
    MOMENT_LOOKUPS,
    TEXT_LOOKUPS,
    FilterSet,
    IntegerFilter,
    IntegerInFilter,
    YearFilter,
)

TEXT, MOMENT = TEXT_LOOKUPS, MOMENT_LOOKUPS


class ContactFilter(FilterSet):
    """One parameter per field and lookup; the exact match is named as the field."""

    # An organisation id, existing or not (no such organisation: no contacts), never a lookup.
    organisation = IntegerFilter(field_name="organisation")
    organisation__in = IntegerInFilter(field_name="organisation", lookup_expr="in")
    created__year = YearFilter(field_name="created")
    modified__year = YearFilter(field_name="modified")

    class Meta:
        model = Contact
        fields = {
            "first_name": TEXT,
            "last_name": TEXT,
            "email_address": TEXT,
            "organisation": ["isnull"],
            "cdms_pk": ["exact"],
            "created": MOMENT,
            "modified": MOMENT,
        }
        filter_overrides = FILTER_OVERRIDES
