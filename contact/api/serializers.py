"""The JSON shape of a contact: the model's fields under their own names (lookups are ids)."""

from contact.models import Contact
from core.api import ModelSerializer

SYSTEM_FIELDS = ["id", "cdms_pk", "created", "modified"]


class ContactSerializer(ModelSerializer):
    """A contact; `id`, `cdms_pk`, `created` and `modified` are read-only."""

    class Meta:
        model = Contact
        fields = [
            *SYSTEM_FIELDS,
            "first_name",
            "last_name",
            "email_address",
            "organisation",
            "title",
            "job_title",
            "telephone_countrycode",
            "telephone_number",
            "address_1",
            "address_2",
            "address_3",
            "address_4",
            "address_town",
            "address_county",
            "address_postcode",
            "country",
            "primary",
        ]
        read_only_fields = SYSTEM_FIELDS
