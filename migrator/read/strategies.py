"""Read strategies: what a synced read fetches from the CRM, chosen in one place (`choose`).

- `Nothing`: the filter can match no CRM row; fetches nothing.
- `Remembered`: the same filter was fetched in full earlier in this sync scope; fetches nothing.
- `ByKeys`: the filter is a set of the model's own keys (`pk__in`, `get(pk=...)`); fetches those
  keys, and a key the answer lacks is proven gone.
- `OrderedSlice`: `[a:b]`, `first()`, `last()` in an order the CRM shares; `$orderby` + `$top=b`
  (nulls apart on PostgreSQL).
- `WalkUntil`: `exists()`, or a slice of an unordered queryset; pages in the CRM's key order until
  enough fetched rows satisfy the local query.
- `All`: everything else; every matching row, and more than CDMS_SYNC_MAX_ROWS raises ReadCapError.

So `Organisation.objects.filter(city__iexact="leeds").order_by()[:5]` (no order) is a
`WalkUntil(5)`, `order_by("number_of_employees")[:5]` an `OrderedSlice` of one request,
and `order_by("name")[:5]` (strings order differently in the CRM) an `All`.
A strategy only fetches and reconciles: checking the local rows that were not fetched is
the read's next step, whatever the strategy.
"""

from dataclasses import dataclass

from .. import fetch
from ..exceptions import ReadCapError
from ..predicate import Const, KeySet, compare, conjoin
from . import scope
from .ordering import crm_orderby


@dataclass(frozen=True)
class Nothing:
    """The filter selects no CRM row."""

    def fetch(self, read):
        """Fetch nothing."""


@dataclass(frozen=True)
class Remembered:
    """The filter was fetched in full earlier in this sync scope."""

    keys: frozenset

    def fetch(self, read):
        """Count the remembered rows as fetched."""
        read.seen |= self.keys


@dataclass(frozen=True)
class All:
    """Every CRM row the filter selects, in parts that fit the URL limit."""

    parts: tuple
    text: str

    def fetch(self, read):
        """Fetch every part; refuse a read past the cap."""
        for part in self.parts:
            read.fetch_all(part)
        scope.remember(read.model, self.text, read.seen)


@dataclass(frozen=True)
class ByKeys(All):
    """The CRM rows with these keys: the answer proves the others gone."""

    keys: frozenset = frozenset()

    def fetch(self, read):
        """Fetch the keys; remove the local rows of those the CRM does not have."""
        if len(self.keys) > read.cap:
            raise ReadCapError(read.model, read.cap, f"this read names {len(self.keys)} keys,")
        super().fetch(read)
        read.remove_gone(self.keys - read.seen)


@dataclass(frozen=True)
class OrderedSlice:
    """`[a:b]` in an order the CRM shares: the first `b` rows in the CRM's order."""

    predicate: object
    orderby: tuple
    nulls_apart: object
    high: int

    def fetch(self, read):
        """Fetch the first `high` rows that satisfy the local query, in order."""
        if self.nulls_apart is None:
            top = self.high if self.predicate.exact else None
            satisfied, received, _ = read.walk(self.predicate, self.orderby, top, self.high)
            if satisfied < self.high and top is not None and received >= top:
                read.fetch_all(self.predicate)  # the CRM had rows the local query rejects
            return
        # The local database puts this key's nulls at the other end from the CRM: walk the
        # part it orders first, then the other, each in the CRM's order.
        path = self.nulls_apart.filter_path
        nulls = conjoin([self.predicate, compare(path, "eq", None)], "and")
        values = conjoin([self.predicate, compare(path, "ne", None)], "and")
        parts = [(values, self.orderby), (nulls, None)]
        if self.nulls_apart.nulls_first_locally:
            parts.reverse()
        satisfied, _, _ = read.walk(*parts[0], None, self.high)
        if satisfied < self.high:
            read.walk(*parts[1], None, self.high - satisfied)


@dataclass(frozen=True)
class WalkUntil:
    """Pages in the CRM's key order until `wanted` fetched rows satisfy the local query."""

    predicate: object
    wanted: int

    def fetch(self, read):
        """Walk; with enough fresh matches, `exists()` has its answer."""
        satisfied, _, _ = read.walk(self.predicate, None, None, self.wanted)
        read.answered = read.need is not None and satisfied >= self.wanted


def choose(read):
    """The strategy for one read, from its predicate, slice, ordering and dependencies."""
    predicate, migrator = read.predicate, read.migrator
    if isinstance(predicate, Const) and not predicate.value:
        return Nothing()
    text = predicate.render()
    earlier = scope.fetched_keys(read.model, text)
    if earlier is not None:
        return Remembered(frozenset(earlier))
    parts = tuple(fetch.fit(predicate, fetch.room(migrator, top=read.cap + 1, expand=read.expand)))
    if isinstance(predicate, KeySet) and predicate.path == migrator.key_attribute:
        return ByKeys(parts, text, predicate.keys)
    if len(parts) > 1 or read.deps.related_after:
        return All(parts, text)  # rows related to the fetched ones are synced after: fetch them all
    if read.need is not None:
        return WalkUntil(parts[0], read.need)
    if read.high is not None:
        ordering = crm_orderby(read.queryset, migrator)
        if ordering is not None:
            return OrderedSlice(parts[0], tuple(ordering[0]), ordering[1], read.high)
        if not read.queryset.ordered:
            return WalkUntil(parts[0], read.high)
    return All(parts, text)
