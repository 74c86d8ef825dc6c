"""The JSON shape of an interaction: the model's fields under their own names (lookups are ids)."""

from core.api import ModelSerializer
from interaction.models import Interaction

SYSTEM_FIELDS = ["id", "cdms_pk", "created", "modified"]


class InteractionSerializer(ModelSerializer):
    """An interaction; `id`, `cdms_pk`, `created` and `modified` are read-only."""

    class Meta:
        model = Interaction
        fields = [
            *SYSTEM_FIELDS,
            "subject",
            "notes",
            "date",
            "interaction_type",
            "adviser",
            "contact",
            "organisation",
            "team",
            "service",
        ]
        read_only_fields = SYSTEM_FIELDS
