"""The dependency pass: before a where-tree is compiled, sync what its filters depend on.

Compiling does no I/O; whatever a filter needs from the CRM or the local database is
gathered here first, into a `Dependencies` object that the compiler only reads:

- a subquery of a synced model (`organisation__in=<queryset>`) is synced (it is a read of
  its own) and its keys are kept;
- a lookup through relations, either way and any number of them (`organisation__name=...`,
  `contacts__email=...`, `organisation__sector__name=...`), syncs the rows one relation away
  that satisfy the rest of it (a read of its own, which follows the next relation the same
  way) and keeps the keys they lead to;
- `pk=`, `pk__in=`, `organisation=`, `organisation__in=` are turned into CRM keys through the
  local rows (one local query);
- `exclude()` across a multi-valued relation (Django's NOT EXISTS subquery) syncs the related
  rows each of its conditions names; any other `Exists()`/`Subquery()` over a synced model is
  refused;
- a relation the filter cannot be narrowed by (`contacts__isnull=...`, an F expression across
  it, or a join used only by an annotation, `values()` or `order_by()`) is noted in
  `related_after` as its path: after the read, the rows related to the fetched ones are synced
  too, one relation after another.
"""

from django.apps import apps
from django.db import connections
from django.db.models.expressions import Col, ResolvedOuterRef
from django.db.models.sql.query import Query

from ..cdms_migrator import get_migrator
from ..exceptions import NotSupportedError
from .where import base_alias, column, joined_aliases, joins_to, lookups, path, step_name, step_target

BY_KEY_LOOKUPS = ("exact", "in")


class Dependencies:
    """What the compiler of one queryset may use without I/O."""

    def __init__(self):
        self._keys = {}
        self.related_after = set()  # paths: tuples of (foreign key field, is_forward)

    def set_keys(self, lookup, keys):
        """Record the CRM keys a leaf stands for."""
        self._keys[id(lookup)] = (lookup, frozenset(keys))

    def keys(self, lookup):
        """The CRM keys recorded for a leaf, or None."""
        entry = self._keys.get(id(lookup))
        return None if entry is None else entry[1]


def prepare(queryset):
    """Sync what the filters of `queryset` depend on; return its Dependencies."""
    deps = Dependencies()
    query = queryset.query
    _subqueries(query, deps)
    base = base_alias(query)
    filtered = set()
    for lookup in lookups(query.where):
        target = column(lookup.lhs)
        if target is None:
            continue
        col, transforms = target
        if col.alias == base:
            _on_base(queryset.model, col.target, transforms, lookup, deps)
        else:
            filtered.update(joins_to(query, col.alias))
            _through_relation(query, col, transforms, lookup, deps)
    for alias in joined_aliases(query):
        if alias not in filtered:
            steps = _synced_path(query, alias)
            if steps is not None:
                deps.related_after.add(steps)
    return deps


def _subqueries(query, deps):
    """Follow the relations inside `exclude()`'s subquery; refuse other subquery expressions."""
    expressions = list(query.annotations.values())
    for lookup in lookups(query.where):
        expressions.append(lookup.lhs)
        if hasattr(lookup.rhs, "resolve_expression") and not isinstance(lookup.rhs, Query):
            expressions.append(lookup.rhs)
    for expression in expressions:
        inner = _synced_subquery(expression)
        if inner is None:
            continue
        if inner.model is not query.model:
            raise NotSupportedError(
                "filter",
                f"an Exists() or Subquery() over {inner.model._meta.label} cannot be synced with the CRM; "
                "filter with `field__in=<queryset>` or across the relation instead",
            )
        _sync_rows_named(query, inner, deps)


def _sync_rows_named(query, inner, deps):
    """Sync the related rows each condition of `exclude()`'s NOT EXISTS subquery names.

    Django writes `exclude(contacts__first_name="Ann")` as NOT EXISTS over the contacts. Once
    every contact that satisfies a condition, locally or in the CRM, has been read, each
    contact's truth of that condition is the mirror's, and so is any combination of them.
    The `IS NOT NULL` terms Django adds beside a condition on the same rows need nothing more.
    """
    start = _model_of(inner, base_alias(inner))
    if start is not query.model:
        _sync_everything_joined(query, inner, start, deps)
        return
    conditions = [lookup for lookup in lookups(inner.where) if _is_condition(inner, lookup)]
    for lookup in conditions:
        col, transforms = column(lookup.lhs)
        related = col.target.model
        if hasattr(lookup.rhs, "resolve_expression") or (lookup.lookup_name == "isnull" and len(conditions) == 1):
            steps = _synced_prefix(_correlation_path(query, inner, related))
            if steps:
                deps.related_after.add(steps)
        elif lookup.lookup_name != "isnull":
            path = "__".join([col.target.name] + [t.lookup_name for t in transforms] + [lookup.lookup_name])
            list(related._default_manager.filter(**{path: lookup.rhs}).values_list("pk", flat=True))


def _correlation_path(query, inner, related):
    """The relations from an outer row to the rows of `related` its NOT EXISTS reads.

    From the correlation: `U1.organisation_id = outer.id` is one relation back
    (`Organisation.exclude(contacts__...)`); `U2.organisation_id = outer.organisation_id`
    goes to the organisation, then back to its contacts (`Contact.exclude(organisation__
    contacts__...)`).
    """
    for lookup in lookups(inner.where):
        target, rhs = column(lookup.lhs), lookup.rhs
        if target is None or not isinstance(rhs, Col) or rhs.alias in inner.alias_map:
            continue
        inside, outside = target[0].target, rhs.target
        if outside.primary_key and inside.is_relation:
            return ((inside, False),)
        if inside.primary_key and outside.is_relation:
            return ((outside, True),)
        if inside.is_relation and outside.is_relation and inside.related_model is outside.related_model:
            return ((outside, True), (inside, False))
    return (_reverse_step(query.model, related),)


def _sync_everything_joined(query, inner, start, deps):
    """Sync every row a subquery that begins at a related table joins, a relation at a time.

    Django begins the NOT EXISTS of `exclude(organisation__contacts__isnull=True)` at the
    organisations: after the read, the organisations of the fetched contacts, and their
    contacts, are synced.
    """
    first = _one_step(query.model, start)
    for alias in [base_alias(inner), *joined_aliases(inner)]:
        steps = _synced_prefix((first, *(path(inner, alias) or ())))
        if steps:
            deps.related_after.add(steps)


def _model_of(query, alias):
    table = query.alias_map[alias].table_name
    return next((m for m in apps.get_models() if m._meta.db_table == table), None)


def _one_step(model, related):
    """The relation between two models, either way: (foreign key field, is_forward)."""
    for field in model._meta.get_fields():
        if field.is_relation and field.many_to_one and field.related_model is related:
            return field, True
    return _reverse_step(model, related)


def _synced_prefix(steps):
    """The steps of a path up to the first that leads to a model that is not synced."""
    synced = 0
    while synced < len(steps) and get_migrator(step_target(steps[synced])) is not None:
        synced += 1
    return steps[:synced]


def _is_condition(inner, lookup):
    """True for a lookup of the subquery on the related rows it reads, not on the outer row.

    The subquery's first table stands for the outer row (Django trims it when it can); its
    correlation with the outer row compares with a column of the outer query. Anything else
    is a condition on related rows, of whatever model: `Contact.exclude(organisation__contacts__
    first_name="Ann")` reads other contacts.
    """
    target = column(lookup.lhs)
    if target is None or target[0].alias == next(iter(inner.alias_map), None):
        return False
    rhs = lookup.rhs
    correlation = isinstance(rhs, ResolvedOuterRef) or (isinstance(rhs, Col) and rhs.alias not in inner.alias_map)
    return not correlation


def _reverse_step(model, related):
    for field in related._meta.get_fields():
        if field.is_relation and field.many_to_one and field.related_model is model:
            return field, False
    raise NotSupportedError("exclude", f"no relation from {related._meta.label} to {model._meta.label}")


def _synced_subquery(expression):
    inner = getattr(expression, "query", None)
    if isinstance(inner, Query) and get_migrator(inner.model) is not None:
        return inner
    for source in getattr(expression, "get_source_expressions", list)():
        found = _synced_subquery(source) if source is not None else None
        if found is not None:
            return found
    return None


def _synced_path(query, alias):
    """The relations from the queried model to `alias`, when the first leads to a synced model; else None.

    Syncing stops at a model that is not synced: its rows are local only.
    """
    return _synced_prefix(path(query, alias) or ()) or None


def _on_base(model, field, transforms, lookup, deps):
    rhs = lookup.rhs
    if isinstance(rhs, Query):
        if get_migrator(rhs.model) is not None:
            deps.set_keys(lookup, synced_keys(rhs))
        return
    if transforms or lookup.lookup_name not in BY_KEY_LOOKUPS or hasattr(rhs, "resolve_expression"):
        return
    values = rhs if lookup.lookup_name == "in" else [rhs]
    if field.primary_key:
        deps.set_keys(lookup, keys_of_local_rows(model, values))
    elif field.is_relation and get_migrator(field.related_model) is not None:
        deps.set_keys(lookup, keys_of_local_rows(field.related_model, values))


def _through_relation(query, col, transforms, lookup, deps):
    steps = _synced_path(query, col.alias)
    if steps is None:
        return
    fk, forward = steps[0]
    rhs = lookup.rhs
    if hasattr(rhs, "resolve_expression") and not isinstance(rhs, Query):
        deps.related_after.add(steps)  # an F expression: compare against fresh related rows
        return
    own_key = len(steps) == 1 and col.target.name == "cdms_pk" and not transforms
    if forward and own_key and not isinstance(rhs, Query):
        return  # the CRM filters on the lookup's own key
    if not forward and lookup.lookup_name == "isnull":
        deps.related_after.add(steps)  # "has no children" needs every child of the candidates
        return
    rest = [step_name(step) for step in path(query, col.alias)[1:]]
    lookup_path = "__".join([*rest, col.target.name] + [t.lookup_name for t in transforms] + [lookup.lookup_name])
    related = step_target(steps[0])._default_manager.filter(**{lookup_path: rhs})  # a read of its own
    if forward:
        keys = {key for key in related.values_list("cdms_pk", flat=True) if key}
    else:
        parents = set(related.values_list(fk.attname, flat=True))  # evaluating syncs the related rows
        keys = keys_of_local_rows(fk.related_model, parents)
    deps.set_keys(lookup, keys)


def synced_keys(inner_query):
    """Sync the rows of a subquery of a synced model; return the CRM keys of those it selects."""
    model = inner_query.model
    inner = model._default_manager.all()
    inner.query = inner_query.chain()
    return {key for key in inner.values_list("cdms_pk", flat=True) if key}


def keys_of_local_rows(model, pks):
    """CRM keys of the local rows with these primary keys (one query; local-only rows drop out)."""
    pks = [pk for pk in pks if pk is not None and _storable(model, pk)]
    if not pks:
        return set()
    rows = model._base_manager.filter(pk__in=pks).exclude(cdms_pk=None)
    return set(rows.values_list("cdms_pk", flat=True))


def _storable(model, pk):
    # A key past the database's integer range names no row (and SQLite refuses to bind it).
    if not isinstance(pk, int) or isinstance(pk, bool):
        return True
    field = model._meta.pk
    low, high = connections[model._base_manager.db].ops.integer_field_range(field.get_internal_type())
    return (low is None or pk >= low) and (high is None or pk <= high)
