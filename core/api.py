"""REST building blocks shared by the domain apps: permissions, paging, history, error answers.

Datetimes are written in UTC with a `Z` (`UTCDateTimeField`, the mapping of every model
serializer built on `ModelSerializer` here): the local time zone's historical offsets (London's
local mean time before 1847, `-00:01:15`) are not offsets RFC 3339 parsers accept.

`exception_handler` is DRF's plus the answers other apps register (`core.api_errors`); the
sync layer registers the CRM's failures, so nothing here changes when the CRM is retired.

DRF settings name classes of this module, and DRF imports them while `rest_framework.views`
is itself being imported, so nothing here may import `rest_framework.views` or
`rest_framework.decorators` at module level.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import models
from rest_framework import pagination, permissions, serializers
from rest_framework.response import Response
from reversion.models import Version

from .api_errors import exception_handler
from .fields import OptionSetField
from .paging import IndexedPaginator

__all__ = [
    "ModelPermissions",
    "ModelSerializer",
    "Pagination",
    "UTCDateTimeField",
    "VersionSerializer",
    "exception_handler",
    "history_response",
]


class UTCDateTimeField(serializers.DateTimeField):
    """A datetime written in UTC (`2015-03-01T09:30:00Z`); one given without an offset is UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default_timezone", dt.UTC)
        super().__init__(*args, **kwargs)


class StrictTextMixin:
    """Text must arrive as a JSON string: DRF would store the number 0 as "0"."""

    def to_internal_value(self, data):
        """The text; a number, boolean or object is invalid."""
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(StrictTextMixin, serializers.CharField):
    """A text field that takes only strings."""


class EmailField(StrictTextMixin, serializers.EmailField):
    """An email field that takes only strings."""


class BooleanField(serializers.BooleanField):
    """A boolean taken only as JSON true or false (DRF would also take 0, "yes", "on")."""

    def to_internal_value(self, data):
        """The boolean; anything else is invalid."""
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ModelSerializer(serializers.ModelSerializer):
    """DRF's model serializer, with datetimes in UTC and text taken only as strings.

    An option set (`core.fields.OptionSetField`) is a whole number whose choices are described,
    not enforced: a value another system stored is read and written back as it is.
    """

    def build_standard_field(self, field_name, model_field):
        """DRF's field, but a whole number (its choices in the description) for an option set."""
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, OptionSetField):
            field_class = serializers.IntegerField
            choices = kwargs.pop("choices", None) or model_field.choices or []
            kwargs.pop("allow_blank", None)
            kwargs["validators"] = list(model_field.validators)
            if choices:
                named = ", ".join(f"{value} ({label})" for value, label in choices)
                kwargs["help_text"] = (
                    f"A whole number; the named options are {named}; others are kept as they are."
                )
        return field_class, kwargs

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
        models.CharField: TextField,
        models.TextField: TextField,
        models.EmailField: EmailField,
        models.BooleanField: BooleanField,
    }


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions, with `view` needed to read (anonymous users are refused)."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class Pagination(pagination.PageNumberPagination):
    """Pages of `PAGE_SIZE` rows; `page_size` may ask for 1 to 200 (else a 400 naming it); deep ones keys first."""

    django_paginator_class = IndexedPaginator
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        """The asked page size, the default when none is asked; a 400 for one out of bounds."""
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = None
        if size is None or not 1 <= size <= self.max_page_size:
            message = f"Ensure this value is a whole number from 1 to {self.max_page_size}."
            raise serializers.ValidationError({self.page_size_query_param: [message]})
        return size

    def get_schema_operation_parameters(self, view):
        """DRF's parameters, typed and bounded as they are checked."""
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": 200},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class VersionSerializer(serializers.Serializer):
    """One saved version of a record: when, by whom, why, and its field values then."""

    id = serializers.IntegerField(read_only=True)
    date = UTCDateTimeField(source="revision.date_created", read_only=True)
    user = serializers.SerializerMethodField()
    comment = serializers.CharField(source="revision.comment", read_only=True)
    fields = serializers.DictField(source="field_dict", read_only=True)

    def get_user(self, version) -> str | None:
        """The user name of the revision's author, or None (a CRM refresh or a script)."""
        user = version.revision.user
        return getattr(user, get_user_model().USERNAME_FIELD) if user else None


def history_response(instance):
    """The django-reversion versions of `instance`, newest first, as a response."""
    versions = Version.objects.get_for_object(instance).select_related("revision__user")
    return Response(VersionSerializer(versions, many=True).data)
