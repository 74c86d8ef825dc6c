"""Translations of single lookups (`field__lookup=value`) into remote predicates.

Each translation states whether it is EXACT (the CRM selects exactly Django's rows) or a
SUPERSET. A leaf the CRM cannot express, or a SUPERSET leaf under negation, relaxes to
true. The CRM compares strings case- and accent-insensitively, so string matches are
supersets; numbers (whole, big, decimal, money, floating point; option sets through
`X/Value`), booleans, keys and whole-second datetimes are exact; a typed reference is filtered by
its record's key (`X/Id`), a superset. A value outside
what the CRM can hold is answered here (`domain`); keys a leaf stands for were gathered by
the dependency pass and arrive as `keys`.
"""

import datetime as dt
import functools
import itertools
import unicodedata
import uuid

from django.db import connections, router
from django.db.models.sql.query import Query
from django.utils import timezone

from cdms_api import fields as cdms_fields

from ..cdms_migrator import get_migrator
from ..predicate import FALSE, RELAXED, TRUE, any_of, call, compare, conjoin, keys_in, negate, with_exact
from .domain import compare_in_domain
from .where import step_target

COMPARISONS = {"exact": "eq", "gt": "gt", "gte": "ge", "lt": "lt", "lte": "le"}
STRING_FUNCTIONS = {
    "contains": "substringof",
    "icontains": "substringof",
    "startswith": "startswith",
    "istartswith": "startswith",
    "endswith": "endswith",
    "iendswith": "endswith",
}
STRING_TYPES = (cdms_fields.StringField, cdms_fields.MemoField)
DATE_PART_TRANSFORMS = {"year", "date"}
FOLDED_LOOKUPS = {"iexact", "icontains", "istartswith", "iendswith"}
MAX_SPELLINGS = 8


def with_polarity(positive, negated):
    """Return the predicate as used under the given polarity."""
    if not negated:
        return positive
    return negate(positive) if positive.exact else RELAXED


def translate(model, field, transforms, lookup, keys, negated):
    """Return the remote predicate for a lookup on a column of the queried model."""
    if isinstance(lookup.rhs, Query):
        return with_polarity(_subquery(model, field, transforms, lookup, keys), negated)
    if hasattr(lookup.rhs, "resolve_expression"):
        return RELAXED
    migrator = get_migrator(model)
    name, rhs = lookup.lookup_name, lookup.rhs
    if field.primary_key:
        positive = _by_local_key(migrator.key_attribute, name, rhs, keys) if not transforms else RELAXED
    elif field.name == "cdms_pk":
        positive = _cdms_key(migrator.key_attribute, name, rhs) if not transforms else RELAXED
    else:
        cdms_field = migrator.field(field.name)
        if cdms_field is None:
            positive = RELAXED
        elif transforms:
            positive = _date_part(cdms_field, transforms, name, rhs)
        elif isinstance(cdms_field, STRING_TYPES):
            positive = _string(cdms_field, name, rhs, _folds_by_upper(model))
        elif isinstance(cdms_field, cdms_fields.LookupField):
            positive = _foreign_key(cdms_field, name, rhs, keys)
        elif isinstance(cdms_field, cdms_fields.ReferenceField):
            positive = _reference(cdms_field, name, rhs)
        else:
            positive = _comparable(cdms_field, name, rhs)
    return with_polarity(positive, negated)


def _subquery(model, field, transforms, lookup, keys):
    """`x__in=<queryset>` of a synced model: the keys that (already synced) queryset holds."""
    inner_model = lookup.rhs.model
    selected = lookup.rhs.select
    selects_pk = len(selected) == 1 and getattr(selected[0], "target", None) == inner_model._meta.pk
    if keys is None or lookup.lookup_name != "in" or transforms or not selects_pk:
        return RELAXED
    migrator = get_migrator(model)
    if field.primary_key and inner_model is model:
        return keys_in(migrator.key_attribute, keys)
    if field.is_relation and field.related_model is inner_model and field.name in migrator.fields:
        return keys_in(migrator.fields[field.name].filter_path, keys)
    return RELAXED


def _folds_by_upper(model):
    """True when the local database compares `iexact`/`icontains` by `UPPER()` (PostgreSQL)."""
    return connections[router.db_for_read(model)].vendor == "postgresql"


def _string(cdms_field, name, rhs, folds_by_upper=False):
    if (
        name in FOLDED_LOOKUPS
        and folds_by_upper
        and isinstance(rhs, str)
        and any(len(_crm_variants(c)) > 1 for c in rhs)
    ):
        return _as_the_database_folds(cdms_field, name, rhs)
    if name in ("exact", "iexact"):
        return _string_equals(cdms_field, rhs)
    if name in STRING_FUNCTIONS:
        if rhs == "":
            return TRUE  # every non-null string contains, starts and ends with ""
        return call(STRING_FUNCTIONS[name], cdms_field.filter_path, rhs)
    if name == "in":
        return conjoin([_string_equals(cdms_field, v) for v in rhs if v is not None] or [FALSE], "or")
    if name == "isnull":
        return FALSE if rhs else TRUE  # local string columns are never null
    return RELAXED


def _crm_fold(text):
    # The CRM compares as SQL Server's Latin1_General_CI_AI: case folded, accents stripped.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def _upper_classes():
    """Letters by their upper case, for the letters whose upper case is a single letter."""
    classes = {}
    for code in range(0x30000):
        char = chr(code)
        upper = char.upper()
        if len(upper) == 1 and (upper != char or char.lower() != char):
            classes.setdefault(upper, set()).add(char)
    return classes


@functools.cache
def _crm_variants(char):
    """One letter for each way the CRM tells apart the letters PostgreSQL's `UPPER()` joins to `char`.

    PostgreSQL compares `iexact`/`icontains` by `UPPER()`, which joins the Turkish dotless `ı`
    to `I` and so to `i`; the CRM folds `ı` to itself. For such a letter the CRM must be asked
    for every variant; for any other letter, the letter itself is enough.
    """
    members = _upper_classes().get(char.upper(), set()) | {char}
    by_fold = {}
    for member in sorted(members):
        by_fold.setdefault(_crm_fold(member), member)
    return tuple(by_fold.values()) if len(by_fold) > 1 else (char,)


def _as_the_database_folds(cdms_field, name, value):
    """`name` of `value` over every CRM spelling the local database counts as the same text."""
    choices = [_crm_variants(c) for c in value]
    count = 1
    for options in choices:
        count *= len(options)
    function = STRING_FUNCTIONS.get(name)
    if count > MAX_SPELLINGS:
        # Too many spellings: ask for the runs between the ambiguous letters instead.
        runs = "".join(" " if len(o) > 1 else o[0] for o in choices).split(" ")
        return conjoin([call("substringof", cdms_field.filter_path, r) for r in runs if r] or [TRUE], "and")
    spellings = ["".join(parts) for parts in itertools.product(*choices)]
    if function is None:
        return conjoin([compare(cdms_field.filter_path, "eq", s, exact=False) for s in spellings], "or")
    return conjoin([call(function, cdms_field.filter_path, s) for s in spellings], "or")


def _string_equals(cdms_field, value):
    # The CRM stores "" as null and the local column holds "" for a CRM null.
    if value == "":
        return compare(cdms_field.filter_path, "eq", None)
    return compare(cdms_field.filter_path, "eq", value, exact=False)


def _is_null(cdms_field, rhs):
    return compare(cdms_field.filter_path, "eq" if rhs else "ne", None)


def _comparable(cdms_field, name, rhs):
    if name == "isnull":
        return _is_null(cdms_field, rhs)
    if name == "in":
        return any_of([_compare(cdms_field, "exact", v) for v in rhs if v is not None], exact=True)
    if name == "range":
        low, high = rhs
        return conjoin([_compare(cdms_field, "gte", low), _compare(cdms_field, "lte", high)], "and")
    if name in COMPARISONS:
        return _compare(cdms_field, name, rhs)
    return RELAXED


def _compare(cdms_field, name, value):
    if isinstance(value, dt.datetime) and value.microsecond:
        # CRM times are whole seconds, so a bound with a fraction is moved to the second
        # that selects the same rows.
        if name == "exact":
            return FALSE
        floor = value.replace(microsecond=0)
        return compare_in_domain(cdms_field, "gt" if name in ("gt", "gte") else "le", floor)
    return compare_in_domain(cdms_field, COMPARISONS[name], value)


def _date_part(cdms_field, transforms, name, rhs):
    if len(transforms) != 1 or transforms[0].lookup_name not in DATE_PART_TRANSFORMS:
        return RELAXED
    if not isinstance(cdms_field, cdms_fields.DateTimeField):
        return RELAXED
    if name == "isnull":
        return _is_null(cdms_field, rhs)
    transform = transforms[0]
    tz = getattr(transform, "tzinfo", None) or timezone.get_current_timezone()
    bounds = _year_bounds if transform.lookup_name == "year" else _day_bounds

    def ge(value):
        return TRUE if value is None else compare_in_domain(cdms_field, "ge", value)

    def lt(value):
        return TRUE if value is None else compare_in_domain(cdms_field, "lt", value)

    if name == "in":
        return conjoin([_date_part_equals(bounds(v, tz), ge, lt) for v in rhs] or [FALSE], "or")
    if name == "range":
        return conjoin([ge(bounds(rhs[0], tz)[0]), lt(bounds(rhs[1], tz)[1])], "and")
    ranges = {
        "exact": lambda b: _date_part_equals(b, ge, lt),
        "gt": lambda b: FALSE if b[1] is None else ge(b[1]),
        "gte": lambda b: ge(b[0]),
        "lt": lambda b: lt(b[0]),
        "lte": lambda b: lt(b[1]),
    }
    if name not in ranges:
        return RELAXED
    return with_exact(ranges[name](bounds(rhs, tz)), True)


def _date_part_equals(bounds, ge, lt):
    return conjoin([ge(bounds[0]), lt(bounds[1])], "and")


def _year_bounds(year, tz):
    """[start, end) of a year in `tz`; end is None past the last year a datetime can hold."""
    year = int(year)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise ValueError(f"year {year} is out of range: a year lookup takes {dt.MINYEAR} to {dt.MAXYEAR}")
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz) if year < dt.MAXYEAR else None
    return (dt.datetime(year, 1, 1, tzinfo=tz), end)


def _day_bounds(day, tz):
    """[start, end) of a day in `tz`; end is None for the last day a datetime can hold."""
    if isinstance(day, dt.datetime):
        day = day.date()
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
    end = start + dt.timedelta(days=1) if day < dt.date.max else None
    return (start, end)


def _foreign_key(cdms_field, name, rhs, keys):
    if name == "isnull":
        return _no_parent(cdms_field.filter_path, cdms_field) if rhs else _has_parent(cdms_field)
    if name not in ("exact", "in") or keys is None:
        return RELAXED
    return keys_in(cdms_field.filter_path, keys)


def _no_parent(path, cdms_field):
    """Rows without a parent: the lookup is empty, or (when it may) it points at another entity."""
    return RELAXED if cdms_field.other_targets else compare(path, "eq", None)


def _has_parent(cdms_field):
    """A superset of the rows with a parent; exact unless the lookup may point at another entity."""
    return with_exact(_is_null(cdms_field, False), not cdms_field.other_targets)


def _reference(cdms_field, name, rhs):
    """A typed reference (`contact/<guid>`) is filtered by its record's key: a superset, as the
    logical name is not compared (and text that is no reference matches no CRM record)."""
    if name == "isnull":
        return _is_null(cdms_field, rhs)
    if name not in ("exact", "in"):
        return RELAXED
    values = [v for v in (rhs if name == "in" else [rhs]) if v is not None]
    keys = [k for k in (cdms_field.key(v) for v in values) if k]
    return with_exact(keys_in(cdms_field.filter_path, keys), False)


def _by_local_key(key_attribute, name, rhs, keys):
    if name == "isnull":
        return FALSE if rhs else TRUE
    if name not in ("exact", "in") or keys is None:
        return RELAXED
    return keys_in(key_attribute, keys)


def _cdms_key(path, name, rhs):
    if name == "isnull":
        return FALSE if rhs else TRUE  # CRM records always have a key
    if name not in ("exact", "in") or isinstance(rhs, Query):
        return RELAXED
    values = [v for v in (rhs if name == "in" else [rhs]) if v is not None]
    keys = [k for k in (canonical_key(v) for v in values) if k]
    exact = all(canonical_key(v) == v for v in values)
    return with_exact(keys_in(path, keys), exact)


def canonical_key(value):
    """Return the lower-case form of a GUID, or None when `value` is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def through_relation(model, steps, col, transforms, lookup, keys, negated):
    """Return the predicate of a lookup through relations to synced models, from the keys the first leads to."""
    fk, forward = steps[0]
    migrator = get_migrator(model)
    if get_migrator(step_target(steps[0])) is None:
        return RELAXED
    own_key = len(steps) == 1 and col.target.name == "cdms_pk" and not transforms
    cdms_field = migrator.fields[fk.name] if forward else None
    if forward and own_key and keys is None:
        if lookup.lookup_name == "isnull":
            # No parent, or a local-only parent that the CRM cannot refer to: both are null there.
            found = _no_parent(cdms_field.filter_path, cdms_field) if lookup.rhs else _has_parent(cdms_field)
            return with_polarity(found, negated)
        return with_polarity(_cdms_key(cdms_field.filter_path, lookup.lookup_name, lookup.rhs), negated)
    if keys is None or negated:
        return RELAXED
    attribute = cdms_field.filter_path if forward else migrator.key_attribute
    found = keys_in(attribute, keys)
    if forward and lookup.lookup_name == "isnull" and lookup.rhs:
        # Through a LEFT JOIN, a row without a parent has every parent column null.
        found = conjoin([found, _no_parent(attribute, cdms_field)], "or")
    return with_exact(found, False)
