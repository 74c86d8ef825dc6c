"""A small algebra of remote predicates, rendered to an OData `$filter`.

The compiler builds these from Django's where-tree; each knows whether it selects
exactly the rows Django selects (`exact`) or possibly more (a sound superset).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Const:
    """Always true or always false."""

    value: bool
    exact: bool = True

    def render(self):
        return None if self.value else "false"


@dataclass(frozen=True)
class Term:
    """One comparison or function call in OData syntax."""

    text: str
    exact: bool

    def render(self):
        return self.text


@dataclass(frozen=True)
class Junction:
    """An `and`/`or` of two or more predicates."""

    connector: str
    children: tuple
    exact: bool

    def render(self):
        return f" {self.connector} ".join(f"({child.render()})" for child in self.children)


TRUE = Const(True)
FALSE = Const(False)
RELAXED = Const(True, exact=False)


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
        only = kept[0]
        return only if only.exact == exact else _with_exact(only, exact)
    return Junction(connector, tuple(kept), exact)


def _with_exact(pred, exact):
    if isinstance(pred, Term):
        return Term(pred.text, exact)
    if isinstance(pred, Junction):
        return Junction(pred.connector, pred.children, exact)
    return Const(pred.value, exact)


def any_of(terms, exact):
    """An `or` of terms (an `in` list); false when there are none."""
    if not terms:
        return Const(False, exact=exact)
    return conjoin([Term(t, exact) for t in terms], "or")


def key_set(predicate, key_attribute):
    """The keys named by an exact predicate that is only `Key eq guid'...'` terms joined by `or`."""
    if not predicate.exact:
        return None
    terms = predicate.children if isinstance(predicate, Junction) and predicate.connector == "or" else (predicate,)
    prefix, keys = f"{key_attribute} eq guid'", set()
    for term in terms:
        if not (isinstance(term, Term) and term.text.startswith(prefix) and term.text.endswith("'")):
            return None
        keys.add(term.text[len(prefix) : -1])
    return keys
