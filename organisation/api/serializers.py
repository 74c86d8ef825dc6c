"""The JSON shape of an organisation: the model's fields under their own names (lookups are ids)."""

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
            "company_number",
            "registered_address_1",
            "registered_address_2",
            "registered_address_3",
            "registered_address_4",
            "registered_address_town",
            "registered_address_county",
            "registered_address_postcode",
            "description",
            "website",
            "country",
            "uk_region",
            "business_type",
            "sector",
            "employee_range",
            "turnover_range",
            "parent",
        ]
        read_only_fields = SYSTEM_FIELDS
