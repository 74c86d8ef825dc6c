"""Query parameters that filter the organisation list: `?name=Acme`, `?city__icontains=lond`, ..."""

from django_filters import rest_framework as filters

from organisation.models import Organisation

TEXT = ["exact", "iexact", "icontains", "istartswith"]
NUMBER = ["exact", "gte", "lte", "gt", "lt", "isnull"]
MOMENT = ["exact", "gte", "lte", "gt", "lt", "year", "date", "isnull"]


class OrganisationFilter(filters.FilterSet):
    """One parameter per field and lookup; the exact match is named as the field."""

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
            "cdms_pk": ["exact"],
            "created": MOMENT,
            "modified": MOMENT,
        }
