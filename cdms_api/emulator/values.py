"""Conversion of attribute values between wire JSON, SQLite columns and `$filter` literals.

Storage choices: decimals and money are integers scaled by 10**precision (exact and orderable),
datetimes are integer UTC milliseconds (always whole seconds), GUIDs lower-case text, booleans
0/1, lookups a GUID column plus a `__t` column for the referenced logical name. Every text
attribute has a `__n` shadow column holding its folded form (casefold, accents stripped) so that
SQLite compares and orders like SQL Server's Latin1_General_CI_AI collation.
"""

import math
import re
import unicodedata
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from cdms_api import domains

from . import schema as s
from .errors import bad_request

DATE_RE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
SQL_TYPES = {s.INT: "INTEGER", s.BIGINT: "INTEGER", s.BOOL: "INTEGER", s.OPTIONSET: "INTEGER"}
SQL_TYPES.update({s.DECIMAL: "INTEGER", s.MONEY: "INTEGER", s.DATETIME: "INTEGER", s.DOUBLE: "REAL"})
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def fold(text):
    """Case- and accent-insensitive form of `text` (None stays None)."""
    if text is None:
        return None
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def columns(attr):
    """The (column, SQL type) pairs that store `attr`."""
    cols = [(attr.column, SQL_TYPES.get(attr.type, "TEXT"))]
    if attr.type in s.TEXT_TYPES:
        cols.append((attr.shadow, "TEXT"))
    if attr.type == s.LOOKUP:
        cols.append((attr.name + "__t", "TEXT"))
    return cols


def parse_guid(text, what="GUID"):
    """A canonical lower-case GUID string, or a 400."""
    try:
        return str(uuid.UUID(str(text)))
    except (ValueError, TypeError, AttributeError):
        raise bad_request(f"Invalid {what}: {text!r}.")


def now_ms():
    """The current UTC time in whole-second milliseconds."""
    return int(datetime.now(UTC).timestamp()) * 1000


def datetime_ms(value):
    """A datetime (naive = UTC) as whole-second UTC milliseconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp()) * 1000


def wire_date(ms):
    """UTC milliseconds as `/Date(ms)/`."""
    return None if ms is None else f"/Date({ms})/"


def scale(attr, number):
    """A Decimal as the scaled integer stored for a decimal/money attribute (float if inexact)."""
    scaled = number * (10**attr.precision)
    return int(scaled) if scaled == scaled.to_integral_value() else float(scaled)


def _decimal(attr, value):
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _type_error(attr, value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _type_error(attr, value)
    if not number.is_finite():
        raise _type_error(attr, value)
    return int(number.quantize(Decimal(1).scaleb(-attr.precision)) * (10**attr.precision))


def _type_error(attr, value):
    return bad_request(f"Invalid value {value!r} for attribute '{attr.name}' of type {attr.type}.")


def _text(attr, value):
    if not isinstance(value, str):
        raise _type_error(attr, value)
    if attr.max_length and len(value) > attr.max_length:
        raise bad_request(f"Attribute '{attr.name}' is longer than {attr.max_length} characters.")
    value = value or None  # CRM stores "" as null
    return {attr.column: value, attr.shadow: fold(value)}


def _date(attr, value):
    if not isinstance(value, str):
        raise _type_error(attr, value)
    match = DATE_RE.match(value)
    try:
        if match:
            moment = datetime.fromtimestamp(int(match.group(1)) // 1000, UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise _type_error(attr, value)
    problem = domains.datetime_problem(moment)
    if problem:
        raise bad_request(f"Attribute '{attr.name}': {problem}.")
    return datetime_ms(moment)


def _member(attr, value, member):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {member, "__metadata"}:
        raise _type_error(attr, value)
    return value.get(member)


def _lookup(attr, value):
    if value is None:
        return {attr.column: None, attr.name + "__t": None}
    if not isinstance(value, dict) or set(value) - {"Id", "LogicalName", "Name", "__metadata"}:
        raise _type_error(attr, value)
    if value.get("Id") is None:
        return {attr.column: None, attr.name + "__t": None}
    logical = value.get("LogicalName") or (attr.targets[0] if attr.targets else None)
    if logical is None:
        raise bad_request(f"Attribute '{attr.name}' needs the LogicalName of the record it refers to.")
    if attr.targets and logical not in attr.targets:
        raise bad_request(f"Attribute '{attr.name}' cannot refer to a {logical!r}.")
    return {attr.column: parse_guid(value["Id"], f"GUID in '{attr.name}'"), attr.name + "__t": logical}


def _scalar(attr, value):
    """The stored value of a non-text, non-lookup attribute."""
    kind = attr.type
    if kind in (s.MONEY, s.OPTIONSET):
        value = _member(attr, value, "Value")
    if value is None:
        return None
    if kind in (s.INT, s.OPTIONSET):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(attr, value)
        problem = domains.int32_problem(value)
        if problem:
            raise bad_request(f"Attribute '{attr.name}': {problem}.")
        return value
    if kind == s.BIGINT:
        return _int64(attr, value)
    if kind == s.DOUBLE:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _type_error(attr, value)
        return float(value)
    if kind == s.BOOL:
        if not isinstance(value, bool):
            raise _type_error(attr, value)
        return int(value)
    if kind in (s.DECIMAL, s.MONEY):
        return _decimal(attr, value)
    if kind == s.DATETIME:
        return _date(attr, value)
    return parse_guid(value, f"GUID in '{attr.name}'")


def _int64(attr, value):
    """An Edm.Int64: OData v2 JSON sends it as a string, and a number is accepted too."""
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,19}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(attr, value)
    if not INT64_MIN <= value <= INT64_MAX:
        raise bad_request(f"Attribute '{attr.name}': {value} is outside the range of a 64-bit integer.")
    return value


def to_columns(attr, value):
    """Wire JSON value of `attr` -> {column: stored value}; a 400 naming the attribute if invalid."""
    if attr.type in s.TEXT_TYPES:
        return {attr.column: None, attr.shadow: None} if value is None else _text(attr, value)
    if attr.type == s.LOOKUP:
        return _lookup(attr, value)
    return {attr.column: _scalar(attr, value)}


def _format_decimal(attr, stored):
    return str((Decimal(stored) / (10**attr.precision)).quantize(Decimal(1).scaleb(-attr.precision)))


def to_wire(attr, row, names):
    """The wire JSON value of `attr` from a stored row; `names` maps lookup ids to display names."""
    value = row[attr.column]
    kind = attr.type
    if kind == s.LOOKUP:
        if value is None:
            return {"Id": None, "LogicalName": None, "Name": None}
        return {"Id": value, "LogicalName": row[attr.name + "__t"], "Name": names.get(value)}
    if kind == s.OPTIONSET:
        return {"Value": value}
    if kind == s.MONEY:
        return {"Value": None if value is None else _format_decimal(attr, value)}
    if value is None:
        return None
    if kind == s.DECIMAL:
        return _format_decimal(attr, value)
    if kind == s.BOOL:
        return bool(value)
    if kind == s.DATETIME:
        return wire_date(value)
    if kind == s.BIGINT and not attr.int64:  # VersionNumber: as the emulator's mode says
        return str(value)  # OData v2 JSON writes an Edm.Int64 as a string
    return value
