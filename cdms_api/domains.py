"""The CRM's value domains: what CRM 2011 can store in an attribute of each type.

One place, used by the emulator (which refuses what the CRM refuses), the client (which
refuses to send it), the sync layer's filters (which answer a comparison with a value outside
a domain without asking) and, through the sync layer, the model fields and the API (which
answer a 400 naming the field).

- Whole numbers and option-set values are Int32 (SQL Server `int`).
- Datetimes are SQL Server `datetime`: 1753-01-01 to 9999-12-31, whole seconds here
  (`DateTimeAttributeMetadata.MinSupportedValue` / `MaxSupportedValue`).
"""

import datetime as dt

INT32 = (-(2**31), 2**31 - 1)
DATETIMES = (
    dt.datetime(1753, 1, 1, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
)
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
