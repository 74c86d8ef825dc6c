"""Reading Django's where-tree: its leaves, the column under a lookup, the join a column comes through.

Shared by the dependency pass (which syncs what a filter needs) and the compiler (which
translates it), so both see the same leaves the same way.
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
    """The alias of the queried model's table (None before any join is set up)."""
    return query.get_initial_alias() if query.alias_map else None


def hop(query, alias):
    """(foreign key field, is_forward) of a join one step from the base table, else None."""
    join = query.alias_map.get(alias)
    if join is None or getattr(join, "parent_alias", None) != base_alias(query):
        return None
    field = join.join_field
    if isinstance(field, ForeignObjectRel):
        return field.field, False
    return field, True


def joined_aliases(query):
    """Aliases of every table joined to the base table (joins Django has trimmed left out)."""
    base = base_alias(query)
    return [alias for alias in query.alias_map if alias != base and query.alias_refcount.get(alias, 0) > 0]
