"""The adviser endpoints: list, retrieve and history (read-only)."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action

from adviser.models import Adviser
from core.api import VersionSerializer, history_response

from .filters import AdviserFilter
from .serializers import AdviserSerializer


class AdviserViewSet(viewsets.ReadOnlyModelViewSet):
    """Advisers (the CRM's system users), read-only while the CRM owns them."""

    queryset = Adviser.objects.all()
    lookup_value_regex = "[^/]+"  # any id reaches the view, so a bad one is a JSON 404
    serializer_class = AdviserSerializer
    filterset_class = AdviserFilter
    search_fields = ["first_name", "last_name", "email"]
    ordering_fields = ["first_name", "last_name", "email", "created", "modified"]
    ordering = ["last_name", "first_name", "id"]

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The saved versions of this adviser (django-reversion), newest first."""
        return history_response(self.get_object())
