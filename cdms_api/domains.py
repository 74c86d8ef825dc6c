"""The CRM's value domains: what CRM 2011 can store in an attribute of each type.

One place, used by the emulator (which refuses what the CRM refuses), the client (which
refuses to send it), the sync layer's filters (which answer a comparison with a value outside
a domain without asking) and, through the sync layer, the model fields and the API (which
answer a 400 naming the field).

- Whole numbers and option-set values are Int32 (SQL Server `int`).
- Datetimes are SQL Server `datetime`: 1753-01-01 to 9999-12-31, whole seconds here
  (`DateTimeAttributeMetadata.MinSupportedValue` / `MaxSupportedValue`).
- Decimals, money and floating point numbers have the ranges of CRM 2011's attribute metadata
  (`DecimalAttributeMetadata`, `MoneyAttributeMetadata`, `DoubleAttributeMetadata` Min/MaxValue);
  big integers are Int64 (SQL Server `bigint`).
"""

import datetime as dt
import math
from decimal import Decimal

INT32 = (-(2**31), 2**31 - 1)
DATETIMES = (
    dt.datetime(1753, 1, 1, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
)
INT64 = (-(2**63), 2**63 - 1)
DECIMALS = (Decimal("-100000000000"), Decimal("100000000000"))
MONEY = (Decimal("-922337203685477"), Decimal("922337203685477"))
DOUBLES = (-100000000000.0, 100000000000.0)
# Read-only through OrganizationData.svc: a record's state changes only through SetStateRequest.
# Custom entities name them in lower case (`statecode`, `statuscode`).
READ_ONLY_ATTRIBUTES = frozenset({"StateCode", "StatusCode", "statecode", "statuscode"})


def int32_problem(value):
    """Why `value` cannot be stored as a CRM whole number, or None when it can."""
    low, high = INT32
    if low <= value <= high:
        return None
    return f"{value} is outside the CRM's whole-number range, {low} to {high}"


def datetime_problem(value):
    """Why the aware datetime `value` cannot be stored by the CRM, or None when it can."""
    low, high = DATETIMES
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if low <= value <= high:
        return None
    return f"{value.isoformat()} is outside the CRM's date range, {low:%Y-%m-%d} to {high:%Y-%m-%d}"


def int64_problem(value):
    """Why `value` cannot be stored as a CRM big integer, or None when it can."""
    low, high = INT64
    if low <= value <= high:
        return None
    return f"{value} is outside the CRM's big integer range, {low} to {high}"


def _number_problem(value, limits, kind):
    low, high = limits
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a number the CRM can store as a {kind}"
    if isinstance(value, Decimal) and not value.is_finite():
        return f"{value} is not a number the CRM can store as a {kind}"
    if low <= value <= high:
        return None
    return f"{value} is outside the CRM's {kind} range, {low} to {high}"


def decimal_problem(value):
    """Why `value` cannot be stored as a CRM decimal number, or None when it can."""
    return _number_problem(value, DECIMALS, "decimal")


def money_problem(value):
    """Why `value` cannot be stored as a CRM money amount, or None when it can."""
    return _number_problem(value, MONEY, "money")


def double_problem(value):
    """Why `value` cannot be stored as a CRM floating point number, or None when it can."""
    return _number_problem(value, DOUBLES, "floating point")
