"""Query parameters that filter the contact list: `?last_name=Smith`, `?organisation=3`, ..."""

from django_filters import rest_framework as filters

from contact.models import Contact

TEXT = ["exact", "iexact", "icontains", "istartswith"]
MOMENT = ["exact", "gte", "lte", "gt", "lt", "year", "date", "isnull"]


class ContactFilter(filters.FilterSet):
    """One parameter per field and lookup; the exact match is named as the field."""

    class Meta:
        model = Contact
        fields = {
            "first_name": TEXT,
            "last_name": TEXT,
            "email_address": TEXT,
            "organisation": ["exact", "in", "isnull"],
            "cdms_pk": ["exact"],
            "created": MOMENT,
            "modified": MOMENT,
        }
