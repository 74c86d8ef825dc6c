"""Translations of single lookups (`field__lookup=value`) into remote predicates.

Each translation states whether it is EXACT (the CRM selects exactly Django's rows) or a
SUPERSET. A leaf the CRM cannot express, or a SUPERSET leaf under negation, relaxes to
true. The CRM compares strings case- and accent-insensitively, so string matches are
supersets; numbers, booleans, keys and whole-second datetimes are exact.
"""

import datetime as dt
import uuid

from django.db.models.sql.query import Query
from django.utils import timezone

from cdms_api import fields as cdms_fields

from .cdms_migrator import get_migrator
from .predicate import FALSE, RELAXED, TRUE, Const, Term, any_of, conjoin

COMPARISONS = {"exact": "eq", "gt": "gt", "gte": "ge", "lt": "lt", "lte": "le"}
STRING_FUNCTIONS = {
    "contains": "substringof({lit}, {path})",
    "icontains": "substringof({lit}, {path})",
    "startswith": "startswith({path}, {lit})",
    "istartswith": "startswith({path}, {lit})",
    "endswith": "endswith({path}, {lit})",
    "iendswith": "endswith({path}, {lit})",
}
STRING_TYPES = (cdms_fields.StringField, cdms_fields.MemoField)
DATE_PART_TRANSFORMS = {"year", "date"}


def negate(pred):
    """The negation of an exact predicate (SQL null semantics on both sides)."""
    if isinstance(pred, Const):
        return Const(not pred.value)
    return Term(f"not ({pred.render()})", exact=True)


def with_polarity(positive, negated):
    """The predicate as used under the given polarity."""
    if not negated:
        return positive
    return negate(positive) if positive.exact else RELAXED


def translate(model, field, transforms, lookup, negated):
    """The remote predicate for a lookup on a column of the queried model."""
    if isinstance(lookup.rhs, Query):
        return with_polarity(_subquery(model, field, transforms, lookup), negated)
    if hasattr(lookup.rhs, "resolve_expression"):
        return RELAXED
    migrator = get_migrator(model)
    name, rhs = lookup.lookup_name, lookup.rhs
    if field.primary_key:
        positive = _local_pk(model, migrator, name, rhs) if not transforms else RELAXED
    elif field.name == "cdms_pk":
        positive = _cdms_key(migrator.key_attribute, name, rhs) if not transforms else RELAXED
    else:
        cdms_field = migrator.field(field.name)
        if cdms_field is None:
            positive = RELAXED
        elif transforms:
            positive = _date_part(cdms_field, transforms, name, rhs)
        elif isinstance(cdms_field, STRING_TYPES):
            positive = _string(cdms_field, name, rhs)
        elif isinstance(cdms_field, cdms_fields.LookupField):
            positive = _foreign_key(field, cdms_field, name, rhs)
        else:
            positive = _comparable(cdms_field, name, rhs)
    return with_polarity(positive, negated)


def _subquery(model, field, transforms, lookup):
    """`x__in=<queryset>` of a synced model: sync that queryset, then filter on the keys it holds.

    After its own sync the inner queryset answers as on a mirror, so its keys are exact.
    """
    inner_model = lookup.rhs.model
    if get_migrator(inner_model) is None:
        return RELAXED
    inner = inner_model._default_manager.all()
    inner.query = lookup.rhs.chain()
    selected = lookup.rhs.select
    selects_pk = len(selected) == 1 and getattr(selected[0], "target", None) == inner_model._meta.pk
    keys = sorted({key for key in inner.values_list("cdms_pk", flat=True) if key})  # syncs the inner rows
    if lookup.lookup_name != "in" or transforms or not selects_pk:
        return RELAXED
    migrator = get_migrator(model)
    if field.primary_key and inner_model is model:
        path = migrator.key_attribute
    elif field.is_relation and field.related_model is inner_model and field.name in migrator.fields:
        path = migrator.fields[field.name].filter_path
    else:
        return RELAXED
    return any_of([f"{path} eq guid'{key}'" for key in keys], exact=True)


def _string(cdms_field, name, rhs):
    path = cdms_field.filter_path
    if name in ("exact", "iexact"):
        return _string_equals(cdms_field, rhs)
    if name in STRING_FUNCTIONS:
        if rhs == "":
            return TRUE  # every non-null string contains, starts and ends with ""
        return Term(STRING_FUNCTIONS[name].format(lit=cdms_field.literal(rhs), path=path), exact=False)
    if name == "in":
        return conjoin([_string_equals(cdms_field, v) for v in rhs if v is not None] or [FALSE], "or")
    if name == "isnull":
        return FALSE if rhs else TRUE  # local string columns are never null
    return RELAXED


def _string_equals(cdms_field, value):
    # The CRM stores "" as null and the local column holds "" for a CRM null.
    if value == "":
        return Term(f"{cdms_field.filter_path} eq null", exact=True)
    return Term(f"{cdms_field.filter_path} eq {cdms_field.literal(value)}", exact=False)


def _comparable(cdms_field, name, rhs):
    path = cdms_field.filter_path
    if name == "isnull":
        return Term(f"{path} {'eq' if rhs else 'ne'} null", exact=True)
    if name == "in":
        return any_of([f"{path} eq {cdms_field.literal(v)}" for v in rhs if v is not None], exact=True)
    if name == "range":
        low, high = rhs
        return conjoin([_compare(cdms_field, "gte", low), _compare(cdms_field, "lte", high)], "and")
    if name in COMPARISONS:
        return _compare(cdms_field, name, rhs)
    return RELAXED


def _compare(cdms_field, name, value):
    path = cdms_field.filter_path
    if isinstance(value, dt.datetime) and value.microsecond:
        return _compare_fractional_datetime(cdms_field, name, value)
    return Term(f"{path} {COMPARISONS[name]} {cdms_field.literal(value)}", exact=True)


def _compare_fractional_datetime(cdms_field, name, value):
    # CRM times are whole seconds, so a bound with a fraction is moved to the second
    # that selects the same rows.
    floor = value.replace(microsecond=0)
    path = cdms_field.filter_path
    if name == "exact":
        return FALSE
    if name in ("gt", "gte"):
        return Term(f"{path} gt {cdms_field.literal(floor)}", exact=True)
    return Term(f"{path} le {cdms_field.literal(floor)}", exact=True)


def _date_part(cdms_field, transforms, name, rhs):
    if len(transforms) != 1 or transforms[0].lookup_name not in DATE_PART_TRANSFORMS:
        return RELAXED
    if not isinstance(cdms_field, cdms_fields.DateTimeField):
        return RELAXED
    transform = transforms[0]
    tz = getattr(transform, "tzinfo", None) or timezone.get_current_timezone()
    bounds = _year_bounds if transform.lookup_name == "year" else _day_bounds
    path = cdms_field.filter_path

    def ge(value):
        return Term(f"{path} ge {cdms_field.literal(value)}", exact=True)

    def lt(value):
        return Term(f"{path} lt {cdms_field.literal(value)}", exact=True)

    if name == "isnull":
        return Term(f"{path} {'eq' if rhs else 'ne'} null", exact=True)
    if name == "in":
        return conjoin([_date_part_equals(bounds(v, tz), ge, lt) for v in rhs] or [FALSE], "or")
    if name == "range":
        return conjoin([ge(bounds(rhs[0], tz)[0]), lt(bounds(rhs[1], tz)[1])], "and")
    ranges = {
        "exact": lambda b: _date_part_equals(b, ge, lt),
        "gt": lambda b: ge(b[1]),
        "gte": lambda b: ge(b[0]),
        "lt": lambda b: lt(b[0]),
        "lte": lambda b: lt(b[1]),
    }
    if name not in ranges:
        return RELAXED
    return ranges[name](bounds(rhs, tz))


def _date_part_equals(bounds, ge, lt):
    return conjoin([ge(bounds[0]), lt(bounds[1])], "and")


def _year_bounds(year, tz):
    year = int(year)
    return (dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz))


def _day_bounds(day, tz):
    if isinstance(day, dt.datetime):
        day = day.date()
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
    return (start, start + dt.timedelta(days=1))


def _foreign_key(field, cdms_field, name, rhs):
    path = cdms_field.filter_path
    if name == "isnull":
        return Term(f"{path} {'eq' if rhs else 'ne'} null", exact=True)
    if name not in ("exact", "in"):
        return RELAXED
    values = rhs if name == "in" else [rhs]
    keys = keys_of_local_rows(field.related_model, values)
    return any_of([f"{path} eq guid'{key}'" for key in keys], exact=True)


def _local_pk(model, migrator, name, rhs):
    if name == "isnull":
        return FALSE if rhs else TRUE
    if name not in ("exact", "in"):
        return RELAXED
    values = rhs if name == "in" else [rhs]
    keys = keys_of_local_rows(model, values)
    return any_of([f"{migrator.key_attribute} eq guid'{key}'" for key in keys], exact=True)


def _cdms_key(key_attribute, name, rhs):
    if name == "isnull":
        return FALSE if rhs else TRUE  # CRM records always have a key
    if name not in ("exact", "in"):
        return RELAXED
    values = rhs if name == "in" else [rhs]
    keys = [k for k in (canonical_key(v) for v in values if v is not None) if k]
    exact = all(canonical_key(v) == v for v in values if v is not None)
    return any_of([f"{key_attribute} eq guid'{key}'" for key in keys], exact=exact)


def canonical_key(value):
    """The lower-case form of a GUID, or None when `value` is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def keys_of_local_rows(model, pks):
    """CRM keys of the local rows with these primary keys (one query; local-only rows drop out)."""
    pks = [pk for pk in pks if pk is not None]
    if not pks:
        return []
    rows = model._base_manager.filter(pk__in=pks).exclude(cdms_pk=None)
    return sorted(rows.values_list("cdms_pk", flat=True))


def through_relation(compiler, lookup, col, transforms, negated):
    """A lookup on a related synced model: sync that model's matching rows, then follow the keys."""
    hop = compiler.join_to(col.alias)
    related_model = col.target.model
    if hop is None or get_migrator(related_model) is None or hasattr(lookup.rhs, "resolve_expression"):
        return RELAXED
    fk, forward = hop
    migrator = get_migrator(compiler.model)
    if forward and col.target.name == "cdms_pk" and not transforms:
        path = migrator.fields[fk.name].filter_path
        if lookup.lookup_name == "isnull":
            # No parent, or a local-only parent that the CRM cannot refer to: both are null there.
            return with_polarity(Term(f"{path} {'eq' if lookup.rhs else 'ne'} null", exact=True), negated)
        return with_polarity(_cdms_key(path, lookup.lookup_name, lookup.rhs), negated)
    path = "__".join([col.target.name] + [t.lookup_name for t in transforms] + [lookup.lookup_name])
    related = related_model._default_manager.filter(**{path: lookup.rhs})
    if forward:
        keys = related.values_list("cdms_pk", flat=True)
        attribute = migrator.fields[fk.name].filter_path
    else:
        keys = related.values_list(f"{fk.name}__cdms_pk", flat=True)
        attribute = migrator.key_attribute
    keys = sorted({key for key in keys if key})  # evaluating syncs the related rows
    if negated:
        return RELAXED
    terms = [f"{attribute} eq guid'{key}'" for key in keys]
    if lookup.lookup_name == "isnull" and lookup.rhs:
        # Through a LEFT JOIN, a row without a parent has every parent column null.
        if not forward:
            return RELAXED
        terms.append(f"{attribute} eq null")
    return any_of(terms, exact=False)
