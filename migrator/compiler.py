"""Compiles a queryset's where-tree into a sound remote predicate (an OData `$filter`).

The remote predicate must select every CRM row that the local query could select
(a superset); the local database then applies Django's exact semantics. NOT is
pushed down to the leaves, each leaf is translated through a table keyed by lookup
name, and a leaf the CRM cannot express relaxes to "true" (or, under negation, any
leaf that is not an exact translation does). See SYNC-SEMANTICS for the rules.
"""

from django.db.models.expressions import Col
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.db.models.lookups import Lookup, Transform
from django.db.models.sql.where import AND, OR, NothingNode, WhereNode

from . import leaves
from .predicate import FALSE, RELAXED, conjoin


class WhereCompiler:
    """Compiles the where-tree of one queryset."""

    def __init__(self, queryset):
        self.queryset = queryset
        self.query = queryset.query
        self.model = queryset.model
        self.base_alias = self.query.get_initial_alias() if self.query.alias_map else None

    def compile(self):
        """The remote predicate for the whole queryset."""
        return self.node(self.query.where, negated=False)

    def node(self, node, negated):
        if isinstance(node, WhereNode):
            return self.junction(node, negated)
        if isinstance(node, NothingNode):
            return RELAXED if negated else FALSE
        if isinstance(node, Lookup):
            return self.leaf(node, negated)
        return RELAXED

    def junction(self, node, negated):
        negated = negated != node.negated
        if node.connector not in (AND, OR):
            return RELAXED  # XOR has no OData form
        connector = "and" if node.connector == AND else "or"
        if negated:
            connector = "or" if connector == "and" else "and"
        return conjoin([self.node(child, negated) for child in node.children], connector)

    def leaf(self, lookup, negated):
        target = self.resolve(lookup.lhs)
        if target is None:
            return RELAXED
        col, transforms = target
        if col.alias != self.base_alias:
            return leaves.through_relation(self, lookup, col, transforms, negated)
        return leaves.translate(self.model, col.target, transforms, lookup, negated)

    def resolve(self, lhs):
        """The column under a chain of transforms, or None for anything else."""
        transforms = []
        while isinstance(lhs, Transform):
            transforms.append(lhs)
            lhs = lhs.lhs
        if not isinstance(lhs, Col):
            return None
        return lhs, list(reversed(transforms))

    def join_to(self, alias):
        """(relation field, is_forward) for a join one hop from the base table, else None."""
        join = self.query.alias_map.get(alias)
        if join is None or getattr(join, "parent_alias", None) != self.base_alias:
            return None
        field = join.join_field
        if isinstance(field, ForeignObjectRel):
            return field.field, False
        return field, True


def compile_where(queryset):
    """The remote predicate of a queryset's filters."""
    return WhereCompiler(queryset).compile()
