"""Compiles a queryset's where-tree into a sound remote predicate (an OData `$filter`).

The remote predicate must select every CRM row that the local query could select
(a superset); the local database then applies Django's exact semantics. NOT is
pushed down to the leaves, each leaf is translated through a table keyed by lookup
name, and a leaf the CRM cannot express relaxes to "true" (or, under negation, any
leaf that is not an exact translation does). See SYNC-SEMANTICS for the rules.

Compiling does no I/O: what a leaf needs from elsewhere (the keys of a subquery, of the
related rows a filter goes through, of local primary keys) was gathered beforehand by
`dependencies.prepare` and is only read here.
"""

from django.db.models.lookups import Lookup
from django.db.models.sql.where import AND, OR, NothingNode, WhereNode

from ..predicate import FALSE, RELAXED, conjoin
from . import leaves
from .where import base_alias, column, path


class WhereCompiler:
    """Compiles the where-tree of one queryset, given its Dependencies."""

    def __init__(self, queryset, deps):
        self.query = queryset.query
        self.model = queryset.model
        self.deps = deps
        self.base_alias = base_alias(self.query)

    def compile(self):
        """Return the remote predicate for the whole queryset."""
        return self.node(self.query.where, negated=False)

    def node(self, node, negated):
        """Return the predicate of one node of the tree under the given polarity."""
        if isinstance(node, WhereNode):
            return self.junction(node, negated)
        if isinstance(node, NothingNode):
            return RELAXED if negated else FALSE
        if isinstance(node, Lookup):
            return self.leaf(node, negated)
        return RELAXED

    def junction(self, node, negated):
        """Return the predicate of an AND/OR node, NOT pushed down (De Morgan)."""
        negated = negated != node.negated
        if node.connector not in (AND, OR):
            return RELAXED  # XOR has no OData form
        connector = "and" if node.connector == AND else "or"
        if negated:
            connector = "or" if connector == "and" else "and"
        return conjoin([self.node(child, negated) for child in node.children], connector)

    def leaf(self, lookup, negated):
        """Return the predicate of one lookup."""
        target = column(lookup.lhs)
        if target is None:
            return RELAXED
        col, transforms = target
        keys = self.deps.keys(lookup)
        if col.alias == self.base_alias:
            return leaves.translate(self.model, col.target, transforms, lookup, keys, negated)
        steps = path(self.query, col.alias)
        if steps is None:
            return RELAXED
        return leaves.through_relation(self.model, steps, col, transforms, lookup, keys, negated)


def compile_where(queryset, deps):
    """Return the remote predicate of a queryset's filters."""
    return WhereCompiler(queryset, deps).compile()
