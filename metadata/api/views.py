"""The reference list endpoints, one per list: list and retrieve (filtered, searched, ordered, paged) and history.

Every list has the same shape (`id`, `name`, the system fields, and a sector's `parent`), so
the serializer, filters and view of each are made from its model. They are read-only: while
the legacy CRM is live its administrators own these lists.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action

from core.api import ModelSerializer, VersionSerializer, history_response
from core.api_filters import FILTER_OVERRIDES, MOMENT_LOOKUPS, TEXT_LOOKUPS, YearFilter
from core.lookup_filters import LinkFilterSet
from metadata.models import LISTS

SYSTEM_FIELDS = ["id", "cdms_pk", "created", "modified"]


def _links(model):
    return [f.name for f in model._meta.concrete_fields if f.is_relation]


def serializer_for(model):
    """The serializer of one list: its fields under their own names, lookups as ids."""
    fields = [*SYSTEM_FIELDS, "name", *_links(model)]
    meta = type("Meta", (), {"model": model, "fields": fields, "read_only_fields": fields})
    doc = f"One {model._meta.verbose_name}; read-only."
    return type(f"{model.__name__}Serializer", (ModelSerializer,), {"Meta": meta, "__doc__": doc})


def filter_for(model):
    """The filters of one list: the name's text lookups, the timestamps', the CRM key and each lookup's id."""
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": {
                "name": TEXT_LOOKUPS,
                "cdms_pk": ["exact"],
                "created": MOMENT_LOOKUPS,
                "modified": MOMENT_LOOKUPS,
            },
            "links": _links(model),
            "filter_overrides": FILTER_OVERRIDES,
        },
    )
    attrs = {
        "Meta": meta,
        "created__year": YearFilter(field_name="created"),
        "modified__year": YearFilter(field_name="modified"),
        "__doc__": "One parameter per field and lookup; the exact match is named as the field.",
    }
    return type(f"{model.__name__}Filter", (LinkFilterSet,), attrs)


class ReferenceListViewSet(viewsets.ReadOnlyModelViewSet):
    """Entries of one reference list, read-only."""

    lookup_value_regex = "[^/]+"  # any id reaches the view, so a bad one is a JSON 404
    search_fields = ["name"]
    ordering_fields = ["name", "created", "modified"]
    ordering = ["name", "id"]

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The saved versions of this entry (django-reversion), newest first."""
        return history_response(self.get_object())


def viewset_for(model):
    """The read-only viewset of one list."""
    attrs = {
        "queryset": model.objects.all(),
        "serializer_class": serializer_for(model),
        "filterset_class": filter_for(model),
        "__doc__": f"The {model._meta.verbose_name_plural} (read-only while the CRM owns them).",
    }
    return type(f"{model.__name__}ViewSet", (ReferenceListViewSet,), attrs)


# (URL name, viewset) of every list, registered under `metadata/` by the root URLs.
VIEWSETS = [(name, viewset_for(model)) for name, model in LISTS]
