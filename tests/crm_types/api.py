"""The widgets' endpoints, built as the domain apps build theirs (core's serializer, filters, errors)."""

from rest_framework import viewsets

from core.api import ModelSerializer
from core.api_filters import FILTER_OVERRIDES, MOMENT_LOOKUPS, NUMBER_LOOKUPS, TEXT_LOOKUPS, FilterSet

from .models import ReferenceWidget, Widget

SYSTEM_FIELDS = ["id", "cdms_pk", "created", "modified"]
NUMBER = NUMBER_LOOKUPS
LINK = ["exact", "in", "isnull"]


class WidgetSerializer(ModelSerializer):
    """A widget; the keys and timestamps are read-only."""

    class Meta:
        model = Widget
        fields = "__all__"
        # `statecode` stays writable here, to show that the CRM's refusal is a 400 naming it.
        read_only_fields = [*SYSTEM_FIELDS, "cdms_version", "statuscode", "price_base"]


class WidgetFilter(FilterSet):
    """One parameter per field and lookup."""

    class Meta:
        model = Widget
        fields = {
            "name": TEXT_LOOKUPS,
            "notes": ["icontains"],
            "quantity": NUMBER,
            "big_count": NUMBER,
            "rate": NUMBER,
            "weight": NUMBER,
            "price": NUMBER,
            "active": ["exact", "isnull"],
            "delivered_on": MOMENT_LOOKUPS,
            "colour": ["exact", "in", "isnull"],
            "statecode": ["exact"],
            "parent_widget": LINK,
            "account": LINK,
            "customer": ["exact", "isnull"],
            "owner": ["exact", "isnull"],
        }
        filter_overrides = FILTER_OVERRIDES


class WidgetViewSet(viewsets.ModelViewSet):
    """Widgets; every call reads or writes through the CRM."""

    queryset = Widget.objects.all()
    lookup_value_regex = "[^/]+"
    serializer_class = WidgetSerializer
    filterset_class = WidgetFilter
    ordering_fields = ["quantity", "price", "weight", "delivered_on", "colour"]
    ordering = ["id"]


class ReferenceWidgetSerializer(WidgetSerializer):
    """A widget of the list the CRM owns."""

    class Meta(WidgetSerializer.Meta):
        model = ReferenceWidget


class ReferenceWidgetViewSet(viewsets.ModelViewSet):
    """The list the CRM owns: reads work, writes answer 405 before the CRM is asked."""

    queryset = ReferenceWidget.objects.all()
    lookup_value_regex = "[^/]+"
    serializer_class = ReferenceWidgetSerializer
    ordering = ["id"]
