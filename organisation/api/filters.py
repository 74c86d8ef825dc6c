"""Query parameters that filter the organisation list: `?name=Acme`, `?city__icontains=lond`, ...

Every value is validated here, so a value no query could take (a year 0, a number with a
fraction for a whole-number field) is a 400 naming the parameter, never an error further down.
"""

from django import forms
from django.db import models
from django_filters import rest_framework as filters

from organisation.models import Organisation

TEXT = ["exact", "iexact", "icontains", "istartswith"]
NUMBER = ["exact", "gte", "lte", "gt", "lt", "isnull"]
MOMENT = ["exact", "gte", "lte", "gt", "lt", "date", "isnull"]


class IntegerFilter(filters.NumberFilter):
    """A whole number (a fraction is a 400, not rounded)."""

    field_class = forms.IntegerField


class YearFilter(IntegerFilter):
    """A year a date can have: 1 to 9999."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "year")
        super().__init__(*args, min_value=1, max_value=9999, **kwargs)


WHOLE_NUMBERS = {models.IntegerField: {"filter_class": IntegerFilter}}


class OrganisationFilter(filters.FilterSet):
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
            "cdms_pk": ["exact"],
            "created": MOMENT,
            "modified": MOMENT,
        }
        filter_overrides = WHOLE_NUMBERS
