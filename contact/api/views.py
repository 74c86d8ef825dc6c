"""The contact endpoints: list, retrieve, create, update, delete and history."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action

from contact.models import Contact
from core.api import VersionSerializer, history_response

from .filters import ContactFilter
from .serializers import ContactSerializer


class ContactViewSet(viewsets.ModelViewSet):
    """Contacts (the CRM's contacts); every call reads or writes through the CRM."""

    queryset = Contact.objects.all()
    lookup_value_regex = "[^/]+"  # any id reaches the view, so a bad one is a JSON 404
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    search_fields = ["first_name", "last_name", "email_address"]
    ordering_fields = ["first_name", "last_name", "email_address", "job_title", "created", "modified"]
    ordering = ["last_name", "first_name", "id"]

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The saved versions of this contact (django-reversion), newest first."""
        return history_response(self.get_object())
