"""Reading Django's where-tree: its leaves, the column under a lookup, the join a column comes through.

Shared by the dependency pass (which syncs what a filter needs) and the compiler (which
translates it), so both see the same leaves the same way. A join is described by its path: the
relations from the queried model to the joined table, each a (foreign key field, is_forward) step.
"""

from django.db.models.expressions import Col
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.db.models.lookups import Lookup, Transform
from django.db.models.sql.where import WhereNode


def lookups(node):
    """Yield every lookup (leaf) of a where-tree."""
    if isinstance(node, WhereNode):
        for child in node.children:
            yield from lookups(child)
    elif isinstance(node, Lookup):
        yield node


def column(lhs):
    """(Col, transforms from the column outwards) under a lookup's left side, or None."""
    transforms = []
    while isinstance(lhs, Transform):
        transforms.append(lhs)
        lhs = lhs.lhs
    if not isinstance(lhs, Col):
        return None
    return lhs, list(reversed(transforms))


def base_alias(query):
    """The alias of the table a query starts from (None before any join is set up); changes nothing.

    Usually the queried model's table; in the subquery Django writes for `exclude()` across
    relations, the first table it kept (`get_initial_alias()` would count a trimmed one back in).
    """
    kept = [alias for alias, join in query.alias_map.items() if getattr(join, "parent_alias", None) is None]
    return next((alias for alias in kept if query.alias_refcount.get(alias, 0) > 0), kept[0] if kept else None)


def path(query, alias):
    """The relations a join goes through from the base table: [(foreign key field, is_forward)], or None."""
    base = base_alias(query)
    steps = []
    while alias != base:
        join = query.alias_map.get(alias)
        parent = getattr(join, "parent_alias", None)
        if parent is None:
            return None
        field = join.join_field
        steps.append((field.field, False) if isinstance(field, ForeignObjectRel) else (field, True))
        alias = parent
    return tuple(reversed(steps)) or None


def joins_to(query, alias):
    """`alias` and every alias joined between it and the base table."""
    base = base_alias(query)
    aliases = []
    while alias is not None and alias != base:
        aliases.append(alias)
        alias = getattr(query.alias_map.get(alias), "parent_alias", None)
    return aliases


def step_name(step):
    """The name a lookup uses to cross one relation (`organisation`, `contacts`)."""
    fk, forward = step
    return fk.name if forward else fk.related_query_name()


def step_target(step):
    """The model one relation leads to."""
    fk, forward = step
    return fk.related_model if forward else fk.model


def joined_aliases(query):
    """Aliases of every table joined to the base table (joins Django has trimmed left out)."""
    base = base_alias(query)
    return [alias for alias in query.alias_map if alias != base and query.alias_refcount.get(alias, 0) > 0]
