"""The JSON shape of a contact: the model's fields under their own names (`organisation` is its id)."""

from contact.models import Contact
from core.api import ModelSerializer

SYSTEM_FIELDS = ["id", "cdms_pk", "created", "modified"]


class ContactSerializer(ModelSerializer):
    """A contact; `id`, `cdms_pk`, `created` and `modified` are read-only."""

    class Meta:
        model = Contact
        fields = [*SYSTEM_FIELDS, "first_name", "last_name", "email_address", "organisation"]
        read_only_fields = SYSTEM_FIELDS
