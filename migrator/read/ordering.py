"""Which orderings the CRM and the local database share, so a slice can be fetched in order.

Numbers (whole, big, decimal, money, floating point), booleans and datetimes order alike in
both systems; strings do not (the CRM orders case- and accent-insensitively), neither do GUIDs
(SQL Server orders their bytes differently), option sets (the CRM orders them by their labels,
not their values) or lookups (by the referenced record's name). SQL Server puts nulls first in
ascending order; so do SQLite and MySQL, but PostgreSQL puts them last. There a single nullable
key is still fetched in order, in two parts: the rows where it is null and the rows where it is
not (`NullsApart`).
"""

from dataclasses import dataclass

from django.db import connections
from django.db.models import F, OrderBy

from cdms_api import fields as cdms_fields

ORDERABLE = (
    cdms_fields.IntegerField,
    cdms_fields.Int64Field,
    cdms_fields.BooleanField,
    cdms_fields.DateTimeField,
    cdms_fields.DecimalField,
    cdms_fields.DoubleField,
    cdms_fields.MoneyField,
)
NULLS_FIRST_VENDORS = {"sqlite", "mysql"}
NEVER_NULL_IN_CRM = {"modified", "created", "cdms_version"}


@dataclass(frozen=True)
class NullsApart:
    """A nullable order key whose nulls the local database puts at the other end from the CRM."""

    filter_path: str
    nulls_first_locally: bool


def crm_orderby(queryset, migrator):
    """(`$orderby` list, NullsApart or None) matching the queryset's ordering, or None."""
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
    terms = [_term(migrator, key) for key in keys]
    if None in terms:
        return None
    if not query.standard_ordering:  # reverse(), as last() uses it: every key the other way
        terms = [(name, field, not descending) for name, field, descending in terms]
    apart = [
        (field, descending)
        for name, field, descending in terms
        if not nulls_first and name not in NEVER_NULL_IN_CRM
    ]
    if apart and len(terms) > 1:
        return None
    orderby = [f"{field.cdms_name} desc" if descending else field.cdms_name for _, field, descending in terms]
    if apart:
        field, descending = apart[0]
        return orderby, NullsApart(field.filter_path, nulls_first_locally=descending)
    return orderby, None


def _term(migrator, key):
    name, descending = _name_and_direction(key)
    if name is None or name == "pk":
        return None
    field = migrator.field(name)
    if not isinstance(field, ORDERABLE):
        return None
    return name, field, descending


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
