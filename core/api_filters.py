"""Filter parameters shared by the domain apps: every value bounded, and the bounds in the schema.

A value no query could take is a 400 naming the parameter, never an error further down: a
whole number past what a database column can be compared with (64 bits), a year a date
cannot have, a text longer than the field it filters (it could never match, and a long
`LIKE` pattern is an error on SQLite), a search term longer than the longest searched field.
Each filter states its bounds in the OpenAPI schema, so generated clients know them.
"""

from django import forms
from django.db import models
from django_filters import rest_framework as filters
from drf_spectacular.drainage import set_override
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter

INT64 = (-(2**63), 2**63 - 1)
TEXT_LOOKUPS = ["exact", "iexact", "icontains", "istartswith"]
MOMENT_LOOKUPS = ["exact", "gte", "lte", "gt", "lt", "date", "isnull"]
NUMBER_LOOKUPS = ["exact", "gte", "lte", "gt", "lt", "isnull"]


class IntegerFilter(filters.NumberFilter):
    """A whole number within `min_value`..`max_value` (64 bits unless told); a fraction is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, min_value=INT64[0], max_value=INT64[1], **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
        set_override(self, "field", {"type": "integer", "minimum": min_value, "maximum": max_value})


class YearFilter(IntegerFilter):
    """A year a date can have: 1 to 9999."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "year")
        super().__init__(*args, min_value=1, max_value=9999, **kwargs)


class TextFilter(filters.CharFilter):
    """A text of at most `max_length` characters (the filtered field's length)."""

    def __init__(self, *args, max_length=None, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        schema = {"type": "string"} if max_length is None else {"type": "string", "maxLength": max_length}
        set_override(self, "field", schema)


def _text_bounds(model_field):
    return {"max_length": model_field.max_length}


FILTER_OVERRIDES = {
    models.IntegerField: {"filter_class": IntegerFilter},
    models.CharField: {"filter_class": TextFilter, "extra": _text_bounds},
    models.EmailField: {"filter_class": TextFilter, "extra": _text_bounds},
}


class BoundedSearchFilter(SearchFilter):
    """DRF's `?search=`, refusing a value longer than the longest field it searches."""

    def filter_queryset(self, request, queryset, view):
        """Search `view.search_fields`; a 400 naming `search` when the value could match nothing."""
        limit = _longest(queryset.model, getattr(view, "search_fields", None) or [])
        if len(request.query_params.get(self.search_param, "")) > limit:
            raise ValidationError({self.search_param: [f"Ensure this value has at most {limit} characters."]})
        return super().filter_queryset(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        """DRF's parameter, with its length bound."""
        parameters = super().get_schema_operation_parameters(view)
        limit = _longest(view.queryset.model, getattr(view, "search_fields", None) or [])
        for parameter in parameters:
            parameter["schema"]["maxLength"] = limit
        return parameters


def _longest(model, search_fields):
    lengths = [getattr(model._meta.get_field(name.lstrip("^=@$")), "max_length", None) for name in search_fields]
    return max([length for length in lengths if length] or [200])
