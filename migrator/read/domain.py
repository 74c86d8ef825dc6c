"""The CRM's value domains: a filter value outside them is answered before any request.

CRM 2011 keeps whole numbers in Int32, big integers in Int64, decimals, money and floating
point numbers within their attribute metadata's ranges and datetimes in SQL Server's
`datetime` range; a `$filter` literal outside them is a 400 (or, for years before 1000, not even valid OData
text). A comparison with such a value has a known answer on every CRM row: `eq` and the
bounds on the far side match nothing, the bounds on the near side match every non-null
value. So it becomes an exact constant predicate (false, or `X ne null`) and costs nothing.
"""

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from cdms_api import fields as cdms_fields
from cdms_api import odata
from cdms_api.domains import DATETIMES, DECIMALS, DOUBLES, INT32, INT64, MONEY

from ..predicate import FALSE, RELAXED, compare, conjoin, with_exact

BOUNDS = (
    (cdms_fields.IntegerField | cdms_fields.OptionSetField, INT32),
    (cdms_fields.Int64Field, INT64),
    (cdms_fields.MoneyField, MONEY),
    (cdms_fields.DecimalField, DECIMALS),
    (cdms_fields.DoubleField, DOUBLES),
    (cdms_fields.DateTimeField, DATETIMES),
)


def bounds(cdms_field):
    """(lowest, highest) value the CRM can hold in this field, or None when unbounded here."""
    for kind, limits in BOUNDS:
        if isinstance(cdms_field, kind):
            return limits
    return None


def _finer_than_kept(cdms_field, value):
    """True when a decimal `value` has more digits after the point than the CRM keeps in this field."""
    precision = getattr(cdms_field, "precision", None)
    if (
        precision is None
        or not isinstance(value, Decimal | float)
        or isinstance(cdms_field, cdms_fields.DoubleField)
    ):
        return False
    value = Decimal(repr(value)) if isinstance(value, float) else value
    return value.is_finite() and value != value.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_FLOOR)


def _at_kept_precision(cdms_field, operator, value):
    """A comparison with a value finer than the CRM keeps, as a superset at the CRM's precision.

    The CRM holds values rounded to the attribute's precision, so no CRM value equals a finer
    one; the local column (at the same precision) may still round it. Bounds are moved outward to
    the nearest kept value, which selects at least the rows either side can mean.
    """
    value = Decimal(repr(value)) if isinstance(value, float) else value
    step = Decimal(1).scaleb(-cdms_field.precision)
    if operator == "eq":
        low, high = value.quantize(step, rounding=ROUND_FLOOR), value.quantize(step, rounding=ROUND_CEILING)
        bounds = [compare(cdms_field.filter_path, "ge", low), compare(cdms_field.filter_path, "le", high)]
        return with_exact(conjoin(bounds, "and"), False)
    if operator in ("gt", "ge"):
        return with_exact(compare(cdms_field.filter_path, "ge", value.quantize(step, rounding=ROUND_FLOOR)), False)
    return with_exact(compare(cdms_field.filter_path, "le", value.quantize(step, rounding=ROUND_CEILING)), False)


def compare_in_domain(cdms_field, operator, value):
    """`field operator value` (operator eq, gt, ge, lt, le), answered without the CRM when out of range."""
    limits = bounds(cdms_field)
    path = cdms_field.filter_path
    if limits is None or value is None:
        return compare(path, operator, value)
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        return RELAXED
    low, high = limits
    if low <= value <= high:
        if _finer_than_kept(cdms_field, value):
            return _at_kept_precision(cdms_field, operator, value)
        if isinstance(cdms_field, cdms_fields.DoubleField):
            value = odata.Double(value)
        return compare(path, operator, value)
    below = value < low
    if operator == "eq":
        return FALSE
    if (operator in ("gt", "ge")) == below:
        return compare(path, "ne", None)  # every value the CRM holds lies on this side
    return FALSE
