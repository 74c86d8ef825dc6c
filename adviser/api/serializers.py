"""The JSON shape of an adviser: the model's fields under their own names (`team` is its id)."""

from adviser.models import Adviser
from core.api import ModelSerializer

FIELDS = ["id", "cdms_pk", "created", "modified", "first_name", "last_name", "email", "team"]


class AdviserSerializer(ModelSerializer):
    """An adviser; read-only."""

    class Meta:
        model = Adviser
        fields = FIELDS
        read_only_fields = FIELDS
