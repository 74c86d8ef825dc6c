"""Query parameters that filter the interaction list: `?organisation=3`, `?date__year=2016`, ..."""

from core.api_filters import FILTER_OVERRIDES, MOMENT_LOOKUPS, TEXT_LOOKUPS, YearFilter
from core.lookup_filters import LinkFilterSet
from interaction.models import Interaction

TEXT, MOMENT = TEXT_LOOKUPS, MOMENT_LOOKUPS


class InteractionFilter(LinkFilterSet):
    """One parameter per field and lookup; the exact match is named as the field."""

    date__year = YearFilter(field_name="date")
    created__year = YearFilter(field_name="created")
    modified__year = YearFilter(field_name="modified")

    class Meta:
        model = Interaction
        fields = {
            "subject": TEXT,
            "notes": ["icontains"],
            "date": MOMENT,
            "cdms_pk": ["exact"],
            "created": MOMENT,
            "modified": MOMENT,
        }
        links = ["interaction_type", "adviser", "contact", "organisation", "team", "service"]
        filter_overrides = FILTER_OVERRIDES
