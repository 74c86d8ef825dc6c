"""The organisation endpoints: list, retrieve, create, update, delete and history."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action

from core.api import VersionSerializer, history_response
from organisation.models import Organisation

from .filters import OrganisationFilter
from .serializers import OrganisationSerializer


class OrganisationViewSet(viewsets.ModelViewSet):
    """Organisations (the CRM's accounts); every call reads or writes through the CRM."""

    queryset = Organisation.objects.all()
    lookup_value_regex = "[^/]+"  # any id reaches the view, so a bad one is a JSON 404
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    search_fields = ["name", "alias", "city", "postcode", "email_address", "company_number"]
    ordering_fields = [
        "name",
        "city",
        "postcode",
        "number_of_employees",
        "last_verified",
        "company_number",
        "created",
        "modified",
    ]
    ordering = ["name", "id"]

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The saved versions of this organisation (django-reversion), newest first."""
        return history_response(self.get_object())
