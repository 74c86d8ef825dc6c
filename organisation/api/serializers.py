"""The JSON shape of an organisation: the model's fields under their own names."""

from core.api import ModelSerializer
from organisation.models import Organisation

SYSTEM_FIELDS = ["id", "cdms_pk", "created", "modified"]


class OrganisationSerializer(ModelSerializer):
    """An organisation; `id`, `cdms_pk`, `created` and `modified` are read-only."""

    class Meta:
        model = Organisation
        fields = [
            *SYSTEM_FIELDS,
            "name",
            "alias",
            "uk_organisation",
            "email_address",
            "city",
            "postcode",
            "number_of_employees",
            "last_verified",
        ]
        read_only_fields = SYSTEM_FIELDS
