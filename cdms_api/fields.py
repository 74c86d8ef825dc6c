"""Converters between Python values and the CRM's JSON for one attribute.

Each field knows its CRM attribute name (`cdms_name`), the path used to filter on it
(`filter_path`: complex values are filtered through a member, `StateCode/Value`), how to write a
value (`to_cdms`), read one (`from_cdms`) and quote one in a `$filter` (`literal`).

CRM 2011 never sends a bare null for a complex value: an empty lookup has all members null and
an empty option set or money value is `{"Value": null}`; both read as None. A string attribute
that is null reads as "" (the CRM stores "" as null). A wire value of the wrong type is the
CRM (or a proxy) answering something unexpected, so it raises CDMSUnexpectedResponseError
naming the attribute instead of handing odd data to the caller.

Every CRM 2011 attribute type has a field: text (`StringField`, `MemoField`), whole number
(`IntegerField`), big integer (`Int64Field`), decimal (`DecimalField`), floating point
(`DoubleField`), money (`MoneyField`), two options (`BooleanField`), date and time
(`DateTimeField`), option set (`OptionSetField`), a lookup to one synced entity (`LookupField`, a
foreign key) and a lookup kept as the referenced record's logical name and GUID
(`ReferenceField`: several target entities, or one that is not synced). A field whose attribute
the OData endpoint will not write (`StateCode`, money's `X_Base`) is `writable=False`.
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
    edm_type = None  # its type in the CRM's `$metadata` (`Edm.String`, `EntityReference`...)

    def __init__(self, name, writable=None):
        self.cdms_name = name
        self.writable = writable if writable is not None else not _read_only(name)

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


def _read_only(name):
    # State and status change only through SetStateRequest; `X_Base` is money in the base currency.
    return name in domains.READ_ONLY_ATTRIBUTES or name.endswith("_Base")


class StringField(Field):
    """A single-line text attribute; CRM null reads as ""."""

    edm_type = "Edm.String"
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

    edm_type = "Edm.Int32"
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

    edm_type = "Edm.Int64"
    wire_types = (str, int)
    LOW, HIGH = domains.INT64

    def parse(self, wire):
        """Return the int of a decimal string or a number, within the Int64 range."""
        if isinstance(wire, str):
            if not INT64_TEXT.fullmatch(wire):
                raise self.unexpected(wire)
            wire = int(wire)
        if not self.LOW <= wire <= self.HIGH:
            raise self.unexpected(wire)
        return wire

    def to_cdms(self, value):
        """Return the number as OData v2 text (`"1047332"`); one outside Int64 raises CDMSValueError."""
        return None if value is None else str(self.checked(value))

    def problem(self, value):
        """Why `value` is no Int64, or None."""
        return domains.int64_problem(value) if isinstance(value, int) else None


class BooleanField(Field):
    """A two-option (bool) attribute."""

    edm_type = "Edm.Boolean"
    wire_types = (bool,)


class DecimalField(Field):
    """A decimal attribute: the CRM sends decimals as JSON strings.

    `precision`: the digits the CRM keeps after the point (it rounds a longer value).
    """

    edm_type = "Edm.Decimal"
    wire_types = (str, int, float)
    default_precision = 2

    def __init__(self, name, precision=None, writable=None):
        super().__init__(name, writable)
        self.precision = self.default_precision if precision is None else precision

    def domain_problem(self, value):
        """Why the finite `value` is outside this type's range, or None."""
        return domains.decimal_problem(value)

    def problem(self, value):
        """Why `value` is outside the CRM's range for this attribute, or None."""
        if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
            return None
        return self.domain_problem(value)

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
        """Return the decimal as a JSON string; one outside the CRM's range raises CDMSValueError."""
        return None if value is None else format(Decimal(self.checked(value)), "f")


class DoubleField(Field):
    """A floating point number attribute (`Edm.Double`), a JSON number on the wire."""

    edm_type = "Edm.Double"
    wire_types = (int, float)

    def parse(self, wire):
        """Return the number as a float."""
        return float(wire)

    def to_cdms(self, value):
        """Return the number; one outside the CRM's range raises CDMSValueError."""
        return None if value is None else float(self.checked(value))

    def problem(self, value):
        """Why `value` is outside the CRM's floating point range, or None."""
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return None
        return domains.double_problem(value)

    def literal(self, value):
        """Return an `Edm.Double` literal (`2.5`, never a decimal's `2.5M`)."""
        if value is None or isinstance(value, bool):
            return odata.literal(value)
        return odata.literal(odata.Double(value))


class DateTimeField(Field):
    """A date and time attribute: `/Date(ms)/`, UTC, whole seconds."""

    edm_type = "Edm.DateTime"
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

    edm_type = "Edm.Guid"
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

    edm_type = "OptionSetValue"

    def read_member(self, value):
        """Return the option value as int."""
        return IntegerField(self.cdms_name).from_cdms(value)

    def to_cdms(self, value):
        """Return `{"Value": n}` (`{"Value": null}` clears it)."""
        return {"Value": self.checked(value)}

    def problem(self, value):
        """Why `value` is no Int32 option value, or None."""
        return IntegerField(self.cdms_name).problem(value)

    def literal(self, value):
        """Return the option value's literal."""
        return odata.literal(value)


class MoneyField(ComplexField):
    """A money attribute: `{"Value": "12.0000"}`; `precision` digits after the point (4 unless told)."""

    edm_type = "Money"

    def __init__(self, name, precision=4, writable=None):
        super().__init__(name, writable)
        self.precision = precision

    def _amount(self):
        return _MoneyAmount(self.cdms_name, self.precision)

    def read_member(self, value):
        """Return the amount as Decimal."""
        return self._amount().from_cdms(value)

    def to_cdms(self, value):
        """Return `{"Value": "12.50"}` (`{"Value": null}` clears it); one outside the range raises."""
        return {"Value": self._amount().to_cdms(value)}

    def problem(self, value):
        """Why `value` is outside the CRM's money range, or None."""
        return self._amount().problem(value)


class _MoneyAmount(DecimalField):
    """The `Value` member of a money attribute."""

    def domain_problem(self, value):
        """Why the finite `value` is outside the money range, or None."""
        return domains.money_problem(value)


class LookupField(ComplexField):
    """A lookup (EntityReference) to a record of `entity`: the Python value is its GUID.

    `other_targets`: the other entities the attribute may point at (`ParentCustomerId` of a
    Contact: an account or a contact). A reference to any entity but `entity` is not this
    relation and reads as None; the CRM cannot filter such references apart from empty ones.
    """

    edm_type = "EntityReference"
    member = "Id"

    def __init__(self, name, entity, writable=None, other_targets=()):
        super().__init__(name, writable)
        self.entity = entity
        self.other_targets = tuple(target.lower() for target in other_targets)

    def from_cdms(self, wire):
        """Return the referenced GUID; None when empty or when it names another entity."""
        logical = wire.get("LogicalName") if isinstance(wire, dict) else None
        if isinstance(logical, str) and logical and logical.lower() != self.entity.lower():
            return None
        return super().from_cdms(wire)

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


class ReferenceField(ComplexField):
    """A lookup kept as the referenced record's logical name and GUID: `"contact/<guid>"`.

    For a lookup that may point at several entities (`ParentCustomerId`: account or contact;
    `RegardingObjectId`), or at one that is not synced (`OwnerId`: a systemuser or team). The
    Python value is text, `<logical name>/<guid>`, so the logical name is kept with the key.
    `targets`: the logical names the attribute may point at (empty: any).
    """

    edm_type = "EntityReference"
    member = "Id"
    SEPARATOR = "/"

    def __init__(self, name, targets=(), writable=None):
        super().__init__(name, writable)
        self.targets = tuple(t.lower() for t in targets)

    def from_cdms(self, wire):
        """Return `<logical name>/<guid>`, None when empty."""
        if wire is None:
            return None
        if not isinstance(wire, dict) or "Id" not in wire:
            raise self.unexpected(wire)
        key = GuidField(self.cdms_name).from_cdms(wire["Id"])
        if key is None:
            return None
        logical = wire.get("LogicalName")
        if not isinstance(logical, str) or not logical:
            raise self.unexpected(wire)
        return f"{logical.lower()}{self.SEPARATOR}{key}"

    def split(self, value):
        """(logical name, GUID) of a reference; ValueError naming the attribute when it is not one."""
        logical, sep, key = str(value).partition(self.SEPARATOR)
        try:
            key = odata.guid(key)
        except ValueError:
            key = None
        if not sep or not logical or key is None:
            raise ValueError(f"attribute {self.cdms_name}: {value!r} is not '<logical name>/<guid>'")
        return logical.lower(), key

    def problem(self, value):
        """Why `value` is no reference this attribute can hold, or None."""
        try:
            logical, _ = self.split(value)
        except ValueError as exc:
            return str(exc).partition(": ")[2]
        if self.targets and logical not in self.targets:
            return f"{logical!r} is not an entity it may refer to ({', '.join(self.targets)})"
        return None

    def to_cdms(self, value):
        """Return the EntityReference of a reference; None clears it."""
        if value is None:
            return {"Id": None, "LogicalName": None}
        self.checked(value)
        logical, key = self.split(value)
        return {"Id": key, "LogicalName": logical}

    def key(self, value):
        """The GUID of a reference (None for None or text that is not one)."""
        try:
            return None if value is None else self.split(value)[1]
        except ValueError:
            return None

    def literal(self, value):
        """Return the `guid'...'` of a reference's record, or null."""
        return GuidField(self.cdms_name).literal(self.key(value) if value is not None else None)
