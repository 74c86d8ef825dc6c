"""Converters between Python values and the CRM's JSON for one attribute.

Each field knows its CRM attribute name (`cdms_name`), the path used to filter on it
(`filter_path`: complex values are filtered through a member, `StateCode/Value`), how to write a
value (`to_cdms`), read one (`from_cdms`) and quote one in a `$filter` (`literal`).

CRM 2011 never sends a bare null for a complex value: an empty lookup has all members null and
an empty option set or money value is `{"Value": null}`; both read as None. A string attribute
that is null reads as "" (the CRM stores "" as null). A wire value of the wrong type is the
CRM (or a proxy) answering something unexpected, so it raises CDMSUnexpectedResponseError
naming the attribute instead of handing odd data to the caller.
"""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from . import domains, odata
from .exceptions import CDMSUnexpectedResponseError, CDMSValueError

INT64_TEXT = re.compile(r"-?[0-9]{1,19}")


class Field:
    """One CRM attribute of a simple (scalar) type."""

    wire_types = ()

    def __init__(self, name):
        self.cdms_name = name

    @property
    def filter_path(self):
        """The $filter path of this attribute."""
        return self.cdms_name

    def unexpected(self, wire):
        """Return the error for a wire value this field cannot read."""
        return CDMSUnexpectedResponseError(
            f"attribute {self.cdms_name}: unexpected {type(wire).__name__} value {str(wire)[:80]!r}"
        )

    def from_cdms(self, wire):
        """Return the Python value of a wire JSON value (None when empty)."""
        if wire is None:
            return None
        if not self._accepts(wire):
            raise self.unexpected(wire)
        return self.parse(wire)

    def _accepts(self, wire):
        # JSON true/false arrive as bool, which Python also counts as int.
        if isinstance(wire, bool):
            return bool in self.wire_types
        return isinstance(wire, self.wire_types)

    def parse(self, wire):
        """Convert a wire value already known to be of a wire type."""
        return wire

    def to_cdms(self, value):
        """Return the wire JSON for a Python value, for a write body."""
        return value

    def problem(self, value):
        """Why the CRM cannot store `value` in this attribute (`domains`), or None when it can."""
        return None

    def checked(self, value):
        """`value`, or CDMSValueError naming the attribute when the CRM cannot store it."""
        problem = None if value is None else self.problem(value)
        if problem:
            raise CDMSValueError(f"attribute {self.cdms_name}: {problem}")
        return value

    def literal(self, value):
        """Return the $filter literal of a Python value."""
        return odata.literal(value)

    def __repr__(self):
        return f"{type(self).__name__}({self.cdms_name!r})"


class StringField(Field):
    """A single-line text attribute; CRM null reads as ""."""

    wire_types = (str,)

    def from_cdms(self, wire):
        """Return the text, "" for null."""
        return "" if wire is None else super().from_cdms(wire)

    def to_cdms(self, value):
        """Return the text; "" and None both clear the attribute."""
        return value or None


class MemoField(StringField):
    """A multi-line text attribute."""


class IntegerField(Field):
    """A whole number attribute (Int32)."""

    wire_types = (int,)

    def to_cdms(self, value):
        """Return the number; one outside Int32 raises CDMSValueError before anything is sent."""
        return self.checked(value)

    def problem(self, value):
        """Why `value` is no Int32, or None."""
        return domains.int32_problem(value) if isinstance(value, int) else None


class Int64Field(Field):
    """A 64-bit whole number (`Edm.Int64`, such as `VersionNumber`).

    OData v2 JSON writes a 64-bit integer as a string (`"1047332"`), since JavaScript numbers
    cannot hold every one; a number is accepted too, and null reads as None.
    """

    wire_types = (str, int)
    LOW, HIGH = -(2**63), 2**63 - 1

    def parse(self, wire):
        """Return the int of a decimal string or a number, within the Int64 range."""
        if isinstance(wire, str):
            if not INT64_TEXT.fullmatch(wire):
                raise self.unexpected(wire)
            wire = int(wire)
        if not self.LOW <= wire <= self.HIGH:
            raise self.unexpected(wire)
        return wire


class BooleanField(Field):
    """A two-option (bool) attribute."""

    wire_types = (bool,)


class DecimalField(Field):
    """A decimal attribute: the CRM sends decimals as JSON strings."""

    wire_types = (str, int, float)

    def parse(self, wire):
        """Return the wire text or number as a Decimal."""
        try:
            value = Decimal(str(wire))
        except InvalidOperation:
            raise self.unexpected(wire) from None
        if not value.is_finite():
            raise self.unexpected(wire)
        return value

    def to_cdms(self, value):
        """Return the decimal as a JSON string."""
        return None if value is None else format(Decimal(value), "f")


class DateTimeField(Field):
    """A date and time attribute: `/Date(ms)/`, UTC, whole seconds."""

    wire_types = (str,)

    def parse(self, wire):
        """Return the aware UTC datetime of a `/Date(ms)/` value."""
        try:
            return odata.parse_date(wire)
        except ValueError:
            raise self.unexpected(wire) from None

    def to_cdms(self, value):
        """Return the `/Date(ms)/` text of an aware datetime."""
        if value is not None and not isinstance(value, datetime):
            raise TypeError(f"{self.cdms_name}: {value!r} is not a datetime")
        value = self.checked(value)
        return None if value is None else odata.format_date(value)

    def problem(self, value):
        """Why `value` is outside the CRM's dates, or None."""
        return domains.datetime_problem(value) if isinstance(value, datetime) else None


class GuidField(Field):
    """A unique identifier attribute (such as the primary key)."""

    wire_types = (str,)

    def parse(self, wire):
        """Return the GUID as canonical lower-case text."""
        try:
            return odata.guid(wire)
        except ValueError:
            raise self.unexpected(wire) from None

    def to_cdms(self, value):
        """Return the GUID as canonical text."""
        return None if value is None else odata.guid(value)

    def literal(self, value):
        """Return `guid'...'`, or null."""
        return "null" if value is None else odata.guid_literal(value)


class ComplexField(Field):
    """An attribute whose wire value is an object (lookup, option set, money)."""

    member = "Value"

    @property
    def filter_path(self):
        """The $filter path of the member that holds the value."""
        return f"{self.cdms_name}/{self.member}"

    def from_cdms(self, wire):
        """Return the Python value of the member, None when empty."""
        if wire is None:
            return None
        if not isinstance(wire, dict) or self.member not in wire:
            raise self.unexpected(wire)
        return self.read_member(wire[self.member])

    def read_member(self, value):
        """Convert the member value."""
        raise NotImplementedError


class OptionSetField(ComplexField):
    """An option set (picklist, state or status): `{"Value": 2}`."""

    def read_member(self, value):
        """Return the option value as int."""
        return IntegerField(self.cdms_name).from_cdms(value)

    def to_cdms(self, value):
        """Return `{"Value": n}` (`{"Value": null}` clears it)."""
        return {"Value": self.checked(value)}

    def problem(self, value):
        """Why `value` is no Int32 option value, or None."""
        return IntegerField(self.cdms_name).problem(value)


class MoneyField(ComplexField):
    """A money attribute: `{"Value": "12.0000"}`."""

    def read_member(self, value):
        """Return the amount as Decimal."""
        return DecimalField(self.cdms_name).from_cdms(value)

    def to_cdms(self, value):
        """Return `{"Value": "12.50"}` (`{"Value": null}` clears it)."""
        return {"Value": DecimalField(self.cdms_name).to_cdms(value)}


class LookupField(ComplexField):
    """A lookup (EntityReference) to a record of `entity`: the Python value is its GUID."""

    member = "Id"

    def __init__(self, name, entity):
        super().__init__(name)
        self.entity = entity

    def read_member(self, value):
        """Return the referenced GUID (None when the lookup is empty)."""
        return GuidField(self.cdms_name).from_cdms(value)

    def to_cdms(self, value):
        """Return the EntityReference for a GUID; all-null members clear it."""
        if value is None:
            return {"Id": None, "LogicalName": None}
        return {"Id": odata.guid(value), "LogicalName": self.entity.lower()}

    def literal(self, value):
        """Return `guid'...'`, or null."""
        return GuidField(self.cdms_name).literal(value)
