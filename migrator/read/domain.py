"""The CRM's value domains: a filter value outside them is answered before any request.

CRM 2011 keeps whole numbers in Int32 and datetimes in SQL Server's `datetime` range; a
`$filter` literal outside them is a 400 (or, for years before 1000, not even valid OData
text). A comparison with such a value has a known answer on every CRM row: `eq` and the
bounds on the far side match nothing, the bounds on the near side match every non-null
value. So it becomes an exact constant predicate (false, or `X ne null`) and costs nothing.
"""

from cdms_api import fields as cdms_fields
from cdms_api.domains import DATETIMES, INT32

from ..predicate import FALSE, compare


def bounds(cdms_field):
    """(lowest, highest) value the CRM can hold in this field, or None when unbounded here."""
    if isinstance(cdms_field, cdms_fields.IntegerField | cdms_fields.OptionSetField):
        return INT32
    if isinstance(cdms_field, cdms_fields.DateTimeField):
        return DATETIMES
    return None


def compare_in_domain(cdms_field, operator, value):
    """`field operator value` (operator eq, gt, ge, lt, le), answered without the CRM when out of range."""
    limits = bounds(cdms_field)
    path = cdms_field.filter_path
    if limits is None or value is None:
        return compare(path, operator, value)
    low, high = limits
    if low <= value <= high:
        return compare(path, operator, value)
    below = value < low
    if operator == "eq":
        return FALSE
    if (operator in ("gt", "ge")) == below:
        return compare(path, "ne", None)  # every value the CRM holds lies on this side
    return FALSE
