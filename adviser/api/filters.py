"""Query parameters that filter the adviser list: `?last_name=Smith`, `?team=3`, ..."""

from adviser.models import Adviser
from core.api_filters import FILTER_OVERRIDES, MOMENT_LOOKUPS, TEXT_LOOKUPS, YearFilter
from core.lookup_filters import LinkFilterSet

TEXT, MOMENT = TEXT_LOOKUPS, MOMENT_LOOKUPS


class AdviserFilter(LinkFilterSet):
    """One parameter per field and lookup; the exact match is named as the field."""

    created__year = YearFilter(field_name="created")
    modified__year = YearFilter(field_name="modified")

    class Meta:
        model = Adviser
        fields = {
            "first_name": TEXT,
            "last_name": TEXT,
            "email": TEXT,
            "cdms_pk": ["exact"],
            "created": MOMENT,
            "modified": MOMENT,
        }
        links = ["team"]
        filter_overrides = FILTER_OVERRIDES
