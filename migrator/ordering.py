"""Which orderings the CRM and the local database share, so a slice can be fetched in order.

Numbers, booleans and datetimes order alike in both systems; strings do not (the CRM orders
case- and accent-insensitively) and neither do GUIDs (SQL Server orders their bytes
differently). SQL Server puts nulls first in ascending order; so do SQLite and MySQL, but
PostgreSQL puts them last, so there a nullable key orders alike only if the CRM never
leaves it empty.
"""

from django.db import connections
from django.db.models import F, OrderBy

from cdms_api import fields as cdms_fields

ORDERABLE = (
    cdms_fields.IntegerField,
    cdms_fields.BooleanField,
    cdms_fields.DateTimeField,
    cdms_fields.DecimalField,
)
NULLS_FIRST_VENDORS = {"sqlite", "mysql"}
NEVER_NULL_IN_CRM = {"modified", "created", "cdms_version"}


def crm_orderby(queryset, migrator):
    """The `$orderby` list matching the queryset's ordering, or None when none matches."""
    query = queryset.query
    if query.order_by:
        keys = list(query.order_by)
    elif query.default_ordering and queryset.model._meta.ordering:
        keys = list(queryset.model._meta.ordering)
    else:
        return None
    if query.extra_order_by:
        return None
    nulls_first = connections[queryset.db].vendor in NULLS_FIRST_VENDORS
    terms = [_term(queryset.model, migrator, key, nulls_first) for key in keys]
    return None if None in terms else terms


def _term(model, migrator, key, nulls_first):
    name, descending = _name_and_direction(key)
    if name is None:
        return None
    if name == "pk":
        return None
    field = migrator.field(name)
    if not isinstance(field, ORDERABLE):
        return None
    if not nulls_first and name not in NEVER_NULL_IN_CRM:
        return None
    return f"{field.cdms_name} desc" if descending else field.cdms_name


def _name_and_direction(key):
    if isinstance(key, str):
        if key == "?" or "__" in key:
            return None, False
        return key.lstrip("-"), key.startswith("-")
    if (
        isinstance(key, OrderBy)
        and isinstance(key.expression, F)
        and key.nulls_first is None
        and key.nulls_last is None
    ):
        return key.expression.name, key.descending
    return None, False
