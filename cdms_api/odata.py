"""OData v2 text as CRM 2011 speaks it: $filter literals, query strings, `/Date()/` values, names.

A literal is the text of one value inside a `$filter` (`'O''Brien'`, `guid'...'`,
`datetime'2016-01-01T00:00:00'`, `12.5M`). A query string is built here, not by `requests`,
because `requests` encodes spaces as `+` and `$` as `%24`; CRM wants `%20` and a literal `$`.
Dates are always UTC with whole seconds: the CRM stores no more, and a naive datetime is a bug.
"""

import math
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# OData v2 JSON: `/Date(ms)/` or, for DateTimeOffset, `/Date(ms+hhmm)/`; ms is UTC either way.
_DATE_RE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
# Characters kept as they are in a query value: the OData punctuation; everything else is encoded.
_SAFE = "(),'/:*-._~"
_OPTIONS = ("filter", "orderby", "select", "expand", "top", "skip", "skiptoken")


def _utc(value):
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone: pass an aware datetime")
    return value.astimezone(UTC).replace(microsecond=0)


def _string(value):
    return "'" + value.replace("'", "''") + "'"


def _decimal(value):
    if not value.is_finite():
        raise ValueError(f"{value} cannot be a CRM decimal")
    return format(value, "f") + "M"


class Double(float):
    """A float written as an `Edm.Double` literal (`2.5`), where a plain float is a decimal (`2.5M`)."""


def _double(value):
    if not math.isfinite(value):
        raise ValueError(f"{value} cannot be a CRM floating point number")
    text = repr(float(value))
    return text if ("." in text or "e" in text) else text + ".0"


def guid(value):
    """Return `value` (a UUID or GUID text) as a canonical lower-case GUID string."""
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:
        raise ValueError(f"{value!r} is not a GUID") from None


def literal(value):
    """Return the $filter literal for a Python value (str, int, bool, Decimal, UUID, aware datetime, None)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Double):
        return _double(value)
    if isinstance(value, float):
        return _decimal(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, uuid.UUID):
        return f"guid'{value}'"
    if isinstance(value, datetime):
        return "datetime'" + _utc(value).strftime("%Y-%m-%dT%H:%M:%S") + "'"
    if isinstance(value, date):
        raise TypeError("a date has no time zone: pass an aware datetime for a CRM datetime filter")
    raise TypeError(f"no OData literal for {type(value).__name__}")


def guid_literal(value):
    """Return `guid'...'` for a GUID given as text or UUID."""
    return f"guid'{guid(value)}'"


def parse_date(text):
    """Return the aware UTC datetime of a `/Date(ms)/` (or `/Date(ms+hhmm)/`) value."""
    match = _DATE_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an OData /Date(ms)/ value")
    return _EPOCH + timedelta(milliseconds=int(match.group(1)))


def format_date(value):
    """Return the `/Date(ms)/` text of an aware datetime, in UTC, truncated to whole seconds."""
    seconds = (_utc(value) - _EPOCH) // timedelta(seconds=1)
    return f"/Date({seconds * 1000})/"


def entity_set(entity):
    """Return the entity set of a schema name: `Account` -> `AccountSet`."""
    return f"{entity}Set"


def key_attribute(entity):
    """Return the primary key attribute of a schema name: `Account` -> `AccountId`."""
    return f"{entity}Id"


def key_path(entity, key):
    """Return the path of one record: `AccountSet(guid'...')` (the key is validated as a GUID)."""
    return f"{entity_set(entity)}({guid_literal(key)})"


def _option_value(name, value):
    if name in ("orderby", "select", "expand") and not isinstance(value, str):
        value = ",".join(value)
    if name in ("top", "skip") and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"${name} must be a non-negative int, not {value!r}")
    return quote(str(value), safe=_SAFE)


def query_string(**options):
    """Return `$filter=...&$top=...` for the given options (None ones left out), percent-encoded."""
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise TypeError(f"unknown OData query options: {', '.join(sorted(unknown))}")
    return "&".join(
        f"${name}={_option_value(name, options[name])}"
        for name in _OPTIONS
        if options.get(name) not in (None, "", [], ())
    )


# $filter expressions. The sync layer builds these nodes and renders them here, in one place,
# so no caller writes `guid'...'` or operator text by hand or parses a rendered filter back.

COMPARISON_OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")
_FUNCTIONS = {
    "substringof": "substringof({lit}, {path})",
    "startswith": "startswith({path}, {lit})",
    "endswith": "endswith({path}, {lit})",
}


class Comparison:
    """`Path op literal`, e.g. `NumberOfEmployees gt 10` or `ParentCustomerId/Id eq null`."""

    __slots__ = ("path", "operator", "value")

    def __init__(self, path, operator, value):
        if operator not in COMPARISON_OPERATORS:
            raise ValueError(f"unknown OData comparison operator {operator!r}")
        self.path, self.operator, self.value = path, operator, value

    def render(self):
        """Return the OData text."""
        return f"{self.path} {self.operator} {literal(self.value)}"


class Function:
    """A string function: `substringof('x', Name)`, `startswith(Name, 'x')`, `endswith(Name, 'x')`."""

    __slots__ = ("name", "path", "value")

    def __init__(self, name, path, value):
        if name not in _FUNCTIONS:
            raise ValueError(f"CRM 2011 has no $filter function {name!r}")
        self.name, self.path, self.value = name, path, value

    def render(self):
        """Return the OData text."""
        return _FUNCTIONS[self.name].format(lit=literal(self.value), path=self.path)


class KeyIn:
    """`Path` equal to one of the GUIDs `keys` (an `or` of `eq`; false when there are none)."""

    __slots__ = ("path", "keys")

    def __init__(self, path, keys):
        self.path, self.keys = path, tuple(sorted({guid(key) for key in keys}))

    def render(self):
        """Return the OData text."""
        if not self.keys:
            return "false"
        # `eq` binds tighter than `or`: no parentheses, which leaves room for more keys a request.
        return " or ".join(f"{self.path} eq guid'{key}'" for key in self.keys)


class Not:
    """`not (expression)`."""

    __slots__ = ("operand",)

    def __init__(self, operand):
        self.operand = operand

    def render(self):
        """Return the OData text."""
        return f"not ({self.operand.render()})"


class Junction:
    """An `and` or `or` of expressions, each parenthesised."""

    __slots__ = ("connector", "operands")

    def __init__(self, connector, operands):
        if connector not in ("and", "or"):
            raise ValueError(f"unknown OData connector {connector!r}")
        self.connector, self.operands = connector, tuple(operands)

    def render(self):
        """Return the OData text."""
        return f" {self.connector} ".join(f"({operand.render()})" for operand in self.operands)


# Characters that every query-string encoder leaves as they are; a server that re-encodes the
# query in its `__next` link may escape the rest (`:` as `%3A`), so they are counted as escaped.
_NEVER_ESCAPED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~(),'/")


def encoded_length(text):
    """Return the most bytes `text` can take in a query string once percent-encoded."""
    return sum(1 if char in _NEVER_ESCAPED else 3 * len(char.encode()) for char in text)
