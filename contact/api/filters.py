"""Query parameters that filter the contact list: `?last_name=Smith`, `?organisation=3`, ...

Values are validated as for organisations (`core.api_filters`): an invalid one is
a 400 naming the parameter.
"""

from django import forms
from django_filters import rest_framework as filters

from contact.models import Contact
from core.api_filters import FILTER_OVERRIDES, MOMENT_LOOKUPS, TEXT_LOOKUPS, YearFilter
from core.managers import local_only
from organisation.models import Organisation

TEXT, MOMENT = TEXT_LOOKUPS, MOMENT_LOOKUPS


class LocalChoiceField(forms.ModelChoiceField):
    """An organisation's id, looked up among the local rows."""

    def to_python(self, value):
        # An id is a local row's: looking it up locally costs no CRM request, and the contacts
        # the filter then selects are read (and checked against the CRM) as any list's are.
        with local_only():
            return super().to_python(value)


class OrganisationChoiceFilter(filters.ModelChoiceFilter):
    """`?organisation=<id>`: the contacts of one organisation (an unknown id is a 400)."""

    field_class = LocalChoiceField


class ContactFilter(filters.FilterSet):
    """One parameter per field and lookup; the exact match is named as the field."""

    organisation = OrganisationChoiceFilter(queryset=Organisation.objects.all())
    created__year = YearFilter(field_name="created")
    modified__year = YearFilter(field_name="modified")

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
        filter_overrides = FILTER_OVERRIDES
