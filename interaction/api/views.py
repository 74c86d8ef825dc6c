"""The interaction endpoints: list, retrieve, create, update, delete and history."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action

from core.api import VersionSerializer, history_response
from interaction.models import Interaction

from .filters import InteractionFilter
from .serializers import InteractionSerializer


class InteractionViewSet(viewsets.ModelViewSet):
    """Interactions (the CRM's detica_interaction activities); every call reads or writes through the CRM."""

    queryset = Interaction.objects.all()
    lookup_value_regex = "[^/]+"  # any id reaches the view, so a bad one is a JSON 404
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    search_fields = ["subject"]
    ordering_fields = ["date", "subject", "created", "modified"]
    ordering = ["-date", "-id"]

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The saved versions of this interaction (django-reversion), newest first."""
        return history_response(self.get_object())
