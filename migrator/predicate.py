"""Remote predicates: `cdms_api.odata` filter nodes plus how exactly they select Django's rows.

The compiler builds these from Django's where-tree; each knows whether it selects exactly
the rows Django selects (`exact`) or possibly more (a sound superset). A `KeySet` is its own
node, so a reader asks "is this a filter by keys?" without parsing text, and long key sets
split cleanly. Text is made only by `render()`, through `cdms_api.odata`.
"""

from dataclasses import dataclass

from cdms_api import odata


@dataclass(frozen=True)
class Const:
    """Always true or always false."""

    value: bool
    exact: bool = True

    def node(self):
        """Return the odata node (false only: true is no filter at all)."""
        return None if self.value else _FALSE_NODE

    def render(self):
        """Return the `$filter` text (None for no filter)."""
        return None if self.value else "false"


class _FalseNode:
    def render(self):
        return "false"


_FALSE_NODE = _FalseNode()


@dataclass(frozen=True)
class Leaf:
    """One comparison or function call (an odata node, possibly negated)."""

    expression: object
    exact: bool

    def node(self):
        """Return the odata node."""
        return self.expression

    def render(self):
        """Return the `$filter` text."""
        return self.expression.render()


@dataclass(frozen=True)
class KeySet:
    """`path` is one of `keys` (CRM GUIDs): always exact."""

    path: str
    keys: frozenset
    exact: bool = True

    def node(self):
        """Return the odata node."""
        return odata.KeyIn(self.path, self.keys)

    def render(self):
        """Return the `$filter` text."""
        return self.node().render()


@dataclass(frozen=True)
class Junction:
    """An `and`/`or` of two or more predicates."""

    connector: str
    children: tuple
    exact: bool

    def node(self):
        """Return the odata node."""
        return odata.Junction(self.connector, [child.node() for child in self.children])

    def render(self):
        """Return the `$filter` text."""
        return self.node().render()


TRUE = Const(True)
FALSE = Const(False)
RELAXED = Const(True, exact=False)


def compare(path, operator, value, exact=True):
    """`path operator value` as a leaf."""
    return Leaf(odata.Comparison(path, operator, value), exact)


def call(function, path, value):
    """A string function leaf (always a superset: the CRM ignores case and accents)."""
    return Leaf(odata.Function(function, path, value), exact=False)


def keys_in(path, keys):
    """`path` is one of `keys`; false when there are none."""
    keys = frozenset(odata.guid(key) for key in keys)
    return KeySet(path, keys) if keys else FALSE


def negate(pred):
    """The negation of an exact predicate (SQL null semantics on both sides)."""
    if isinstance(pred, Const):
        return Const(not pred.value)
    return Leaf(odata.Not(pred.node()), exact=True)


def conjoin(children, connector):
    """Combine predicates with `and`/`or`, simplifying constants."""
    absorbing, neutral = (False, True) if connector == "and" else (True, False)
    exact = all(child.exact for child in children)
    kept = []
    for child in children:
        if isinstance(child, Const):
            if child.value is absorbing:
                return Const(absorbing, exact=child.exact)
            continue
        kept.append(child)
    if not kept:
        return Const(neutral, exact=exact)
    if len(kept) == 1:
        return with_exact(kept[0], exact)
    return Junction(connector, tuple(kept), exact)


def with_exact(pred, exact):
    """The same predicate, marked exact or not."""
    if pred.exact == exact:
        return pred
    if isinstance(pred, KeySet):
        return Leaf(pred.node(), exact)
    if isinstance(pred, Leaf):
        return Leaf(pred.expression, exact)
    if isinstance(pred, Junction):
        return Junction(pred.connector, pred.children, exact)
    return Const(pred.value, exact)


def any_of(children, exact):
    """An `or` of predicates (an `in` list); false when there are none."""
    if not children:
        return Const(False, exact=exact)
    return with_exact(conjoin(children, "or"), exact)
