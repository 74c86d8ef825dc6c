"""Filter parameters shared by the domain apps: every value bounded, and the bounds in the schema.

A value no query could take is a 400 naming the parameter, never an error further down: a
whole number past what a database column can be compared with (64 bits), a year a date
cannot have, a text longer than the field it filters (it could never match, and a long
`LIKE` pattern is an error on SQLite), a search term longer than the longest searched field.
Each filter states its bounds in the OpenAPI schema, so generated clients know them.

A parameter no filter, paging, ordering or search takes (`?colour=red`, or a lookup the filter
set does not offer, `?city__contains=`) is a 400 naming it too: ignoring it would answer every
row to a user who asked for a few. `StrictFilterBackend` checks that for every view that
filters (it is the default filter backend), before anything is read, so an endpoint added
later is strict without saying so.
"""

import datetime as dt
import difflib
import re

import django_filters
import django_filters.fields
from django import forms
from django.core import validators
from django.db import models
from django_filters import rest_framework as filters
from django_filters.widgets import SuffixedMultiWidget
from drf_spectacular.drainage import set_override
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.settings import api_settings

from .fields import OptionSetField

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


class BoundedNumberFilter(filters.NumberFilter):
    """A number (decimal or floating point) within `min_value`..`max_value`, when the field has bounds."""

    def __init__(self, *args, min_value=None, max_value=None, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
        schema = {"type": "number"}
        if min_value is not None:
            schema["minimum"] = float(min_value)
        if max_value is not None:
            schema["maximum"] = float(max_value)
        set_override(self, "field", schema)


class YearFilter(IntegerFilter):
    """A year a date can have: 1 to 9999."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "year")
        super().__init__(*args, min_value=1, max_value=9999, **kwargs)


class IntegerInFilter(filters.BaseInFilter, IntegerFilter):
    """Whole numbers separated by commas (`1,2,3`), each bounded as `IntegerFilter`'s."""


class StrictBooleanField(forms.Field):
    """`true` or `false` (empty, or the filter form's `unknown`: no filter); anything else is invalid."""

    widget = forms.TextInput
    VALUES = {"true": True, "false": False, "": None, "unknown": None}

    def to_python(self, value):
        """True, False or None; a ValidationError for any other text."""
        if value is None or isinstance(value, bool):
            return value
        if value not in self.VALUES:
            raise forms.ValidationError("Enter true or false.", code="invalid")
        return self.VALUES[value]


class BooleanFilter(django_filters.BooleanFilter):
    """A boolean parameter that refuses what is not `true` or `false` instead of ignoring it."""

    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = forms.TextInput  # the raw text reaches the field, which judges it
        super().__init__(*args, **kwargs)


class FilterSet(filters.FilterSet):
    """django-filter's FilterSet with every parameter strict (`isnull` lookups included)."""

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        """django-filter's choice, with its lenient boolean swapped for the strict one.

        An option set filters as a whole number (`IntegerFilter`), not a choice: a value the
        choices lack may be stored, and can be asked for.
        """
        if isinstance(field, OptionSetField) and lookup_type in ("exact", "gt", "gte", "lt", "lte"):
            return IntegerFilter, _number_bounds(field)
        if isinstance(field, OptionSetField) and lookup_type == "in":
            return IntegerInFilter, _number_bounds(field)
        filter_class, params = super().filter_for_lookup(field, lookup_type)
        if filter_class is not None and issubclass(filter_class, django_filters.BooleanFilter):
            filter_class = BooleanFilter
        return filter_class, params


class StrictFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, refusing a query parameter that nothing on the view takes.

    Known are the filter set's parameters, those of the view's other filter backends and of
    its paginator (as each documents them in the schema: `search`, `ordering`, `page`,
    `page_size`), and `format`. Everything else is a 400 naming each unknown parameter, with
    the nearest known name when one is close.
    """

    filterset_base = FilterSet

    def filter_queryset(self, request, queryset, view):
        """Refuse unknown parameters, then filter as django-filter does."""
        known = self.known_parameters(view, queryset)
        unknown = [name for name in request.query_params if name not in known]
        if unknown:
            raise ValidationError({name: [_unknown_message(name, known)] for name in unknown})
        return super().filter_queryset(request, queryset, view)

    def known_parameters(self, view, queryset):
        """The names of every query parameter `view` takes."""
        known = {api_settings.URL_FORMAT_OVERRIDE}
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            for name, filter_ in filterset_class.base_filters.items():
                known.update(_parameter_names(name, filter_.field.widget))
        others = [backend() for backend in view.filter_backends if not issubclass(backend, StrictFilterBackend)]
        paginator = getattr(view, "paginator", None)
        for part in [*others, *([paginator] if paginator is not None else [])]:
            known.update(parameter["name"] for parameter in part.get_schema_operation_parameters(view))
        return known - {None}


def _parameter_names(name, widget):
    if isinstance(widget, SuffixedMultiWidget):  # a range: `name_min` and `name_max`, ...
        return [widget.suffixed(name, suffix) for suffix in widget.suffixes]
    if isinstance(widget, forms.MultiWidget):
        return [name + suffix for suffix in widget.widgets_names]
    return [name]


def _unknown_message(name, known):
    message = "Unknown parameter: no filter, paging, ordering or search of this list takes it."
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"{message} Did you mean '{close[0]}'?" if close else message


class UTCIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, moved to UTC: PostgreSQL refuses offsets past 15:59 that ISO allows."""

    def to_python(self, value):
        """The parsed date-time in UTC (one without an offset is in the current time zone, as before)."""
        parsed = super().to_python(value)
        return parsed.astimezone(dt.UTC) if parsed is not None and parsed.tzinfo is not None else parsed


class DateTimeFilter(filters.IsoDateTimeFilter):
    """A date-time parameter in ISO 8601, compared in UTC."""

    field_class = UTCIsoDateTimeField


class TextFilter(filters.CharFilter):
    """A text of at most `max_length` characters (the filtered field's length)."""

    def __init__(self, *args, max_length=None, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        schema = {"type": "string"} if max_length is None else {"type": "string", "maxLength": max_length}
        set_override(self, "field", schema)


def _value_bounds(model_field):
    """The bounds of a field's range validators, those it has (a CRM decimal's, money's...)."""
    bounds = {}
    for validator in model_field.validators:
        if isinstance(validator, validators.MinValueValidator):
            bounds["min_value"] = validator.limit_value
        if isinstance(validator, validators.MaxValueValidator):
            bounds["max_value"] = validator.limit_value
    return bounds


def _number_bounds(model_field):
    """The bounds of a whole number field's range validators (64 bits where it has none)."""
    low, high = INT64
    for validator in model_field.validators:
        if isinstance(validator, validators.MinValueValidator):
            low = max(low, validator.limit_value)
        if isinstance(validator, validators.MaxValueValidator):
            high = min(high, validator.limit_value)
    return {"min_value": low, "max_value": high}


def _text_bounds(model_field):
    return {"max_length": model_field.max_length}


FILTER_OVERRIDES = {
    models.IntegerField: {"filter_class": IntegerFilter},
    models.BooleanField: {"filter_class": BooleanFilter},
    models.DateTimeField: {"filter_class": DateTimeFilter},
    models.DecimalField: {"filter_class": BoundedNumberFilter, "extra": _value_bounds},
    models.FloatField: {"filter_class": BoundedNumberFilter, "extra": _value_bounds},
    models.CharField: {"filter_class": TextFilter, "extra": _text_bounds},
    models.EmailField: {"filter_class": TextFilter, "extra": _text_bounds},
}


class BoundedSearchFilter(SearchFilter):
    """DRF's `?search=`, refusing a value longer than the longest field it searches."""

    def filter_queryset(self, request, queryset, view):
        """Search `view.search_fields`; a 400 naming `search` when the value could match nothing."""
        limit = _longest(queryset.model, getattr(view, "search_fields", None) or [])
        value = request.query_params.get(self.search_param, "")
        if len(value) > limit:
            raise ValidationError({self.search_param: [f"Ensure this value has at most {limit} characters."]})
        if "\x00" in value:
            raise ValidationError({self.search_param: ["Null characters are not allowed."]})
        return super().filter_queryset(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        """DRF's parameter, with its length bound."""
        parameters = super().get_schema_operation_parameters(view)
        limit = _longest(view.queryset.model, getattr(view, "search_fields", None) or [])
        for parameter in parameters:
            parameter["schema"]["maxLength"] = limit
        return parameters


class StrictOrderingFilter(OrderingFilter):
    """DRF's `?ordering=`, refusing what it cannot order by instead of ignoring it."""

    def get_ordering(self, request, queryset, view):
        """The asked ordering, or the view's; a 400 naming `ordering` and its choices for a bad one."""
        raw = request.query_params.get(self.ordering_param, "")
        valid = [item[0] for item in self.get_valid_fields(queryset, view, {"request": request})]
        if not re.fullmatch(_ordering_pattern(valid), raw):
            message = f"Order by fields separated by commas, each maybe after '-': {', '.join(valid)}."
            raise ValidationError({self.ordering_param: [message]})
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        """DRF's parameter, with the pattern of the orderings it takes."""
        parameters = super().get_schema_operation_parameters(view)
        names = [field for field in getattr(view, "ordering_fields", None) or [] if field != "__all__"]
        for parameter in parameters:
            parameter["schema"]["pattern"] = f"^{_ordering_pattern(names)}$"
        return parameters


def _ordering_pattern(names):
    term = f"-?({'|'.join(map(re.escape, names))})"
    return f"({term}(,{term})*)?"


def _longest(model, search_fields):
    lengths = [getattr(model._meta.get_field(name.lstrip("^=@$")), "max_length", None) for name in search_fields]
    return max([length for length in lengths if length] or [200])
