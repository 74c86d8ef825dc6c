"""The synced read: bring every row a queryset can return up to date, then let Django answer.

1. Compile the where-tree into a sound remote predicate and fetch the matching CRM rows
   (all of them up to CDMS_SYNC_MAX_ROWS; for a slice in an order both systems share, or for
   `exists()`, only until enough rows satisfy the local query), reconciling page by page.
2. Local rows that the query would return but that were not fetched are suspects (stale or
   deleted in the CRM): fetch them by key in batched requests, refresh those that exist and
   remove those that are gone.
3. The caller evaluates the queryset locally.
"""

import logging

from . import fetch, scope
from .cdms_migrator import get_migrator
from .compiler import compile_where
from .conf import cdms_settings
from .ordering import crm_orderby
from .predicate import Const, Term, conjoin, key_set
from .reconcile import reconcile_page
from .removal import remove_gone

log = logging.getLogger("migrator.sync")
MAX_SUSPECT_ROUNDS = 3


def sync_queryset(queryset, need=None):
    """Reconcile the local rows that `queryset` may return with the CRM."""
    migrator = get_migrator(queryset.model)
    if migrator is None:
        return
    if queryset.query.combinator:  # union(), intersection(), difference(): sync each part
        for part in queryset.query.combined_queries:
            sync_queryset(queryset._chain_with_query(part))
        return
    predicate = compile_where(queryset)
    read = Read(queryset, migrator, predicate, need)
    read.fetch()
    read.verify_suspects()


def expansions(queryset, migrator):
    """CRM navigation properties to `$expand` so `select_related` parents arrive with the page."""
    wanted = queryset.query.select_related
    if not wanted:
        return []
    names = migrator.navigation if wanted is True else [name for name in wanted if name in migrator.navigation]
    return [migrator.navigation[name] for name in names]


class Read:
    """One synced read of a queryset."""

    def __init__(self, queryset, migrator, predicate, need):
        self.queryset = queryset
        self.migrator = migrator
        self.predicate = predicate
        self.model = queryset.model
        self.seen = set()
        self.known_absent = set()
        query = queryset.query
        self.sliced = query.is_sliced
        self.high = query.high_mark
        self.need = need
        self.cap = cdms_settings.CDMS_SYNC_MAX_ROWS
        self.truncated = False
        self.answered = False
        self.expand = expansions(queryset, migrator)

    def fetch(self):
        if isinstance(self.predicate, Const) and not self.predicate.value:
            return
        text = self.predicate.render()
        earlier = scope.fetched_keys(self.model, text)
        parts = fetch.split_for_length(self.predicate)
        ordering = crm_orderby(self.queryset, self.migrator) if self.sliced and self.high else None
        if earlier is not None:
            self.seen = set(earlier)
        elif len(parts) == 1 and ordering is not None:
            self._fetch_ordered_slice(parts[0], *ordering)
        elif len(parts) == 1 and (self.need or (self.sliced and self.high and not self.queryset.ordered)):
            satisfied, _ = self._walk(parts[0], None, None, self.need or self.high)
            # exists() has its answer once a fetched (hence fresh) row satisfies the query.
            self.answered = bool(self.need) and satisfied >= self.need
        else:
            for part in parts:
                self._fetch_all(part)
            if not self.truncated:
                scope.remember(self.model, text, self.seen)
        keys = key_set(self.predicate, self.migrator.key_attribute)
        if keys is not None:
            self.known_absent = keys - self.seen

    def _fetch_all(self, predicate):
        fetched = 0
        pages = fetch.prefetched(
            lambda: fetch.pages(self.migrator, predicate, top=self.cap + 1, expand=self.expand)
        )
        for page in pages:
            if fetched + len(page) > self.cap:
                page = page[: self.cap - fetched]
                self.truncated = True
                log.warning(
                    "%s: more than CDMS_SYNC_MAX_ROWS=%d CRM rows match %r; only the first %d were synced.",
                    self.model.__name__,
                    self.cap,
                    predicate.render(),
                    self.cap,
                )
            self.seen.update(reconcile_page(self.model, page))
            fetched += len(page)

    def _fetch_ordered_slice(self, predicate, orderby, nulls_apart):
        if nulls_apart is None:
            top = self.high if predicate.exact else None
            satisfied, received = self._walk(predicate, orderby, top, self.high)
            if satisfied < self.high and top is not None and received >= top:
                self._fetch_all(predicate)  # the CRM had rows the local query rejects
            return
        # The local database puts this key's nulls at the other end from the CRM: walk the
        # part it orders first, then the other, each in the CRM's order.
        nulls = conjoin([predicate, Term(f"{nulls_apart.filter_path} eq null", exact=True)], "and")
        values = conjoin([predicate, Term(f"{nulls_apart.filter_path} ne null", exact=True)], "and")
        parts = [(values, orderby), (nulls, None)]
        if nulls_apart.nulls_first_locally:
            parts.reverse()
        satisfied, _ = self._walk(*parts[0], None, self.high)
        if satisfied < self.high:
            self._walk(*parts[1], None, self.high - satisfied)

    def _walk(self, predicate, orderby, top, wanted):
        """Fetch pages until `wanted` fetched rows satisfy the local query; returns (satisfied, received)."""
        local = self._local_rows(keep_slice=False)
        satisfied = received = 0
        for page in fetch.pages(self.migrator, predicate, orderby=orderby, top=top, expand=self.expand):
            keys = reconcile_page(self.model, page)
            self.seen.update(keys)
            received += len(page)
            satisfied += local.filter(cdms_pk__in=keys).count() if keys else 0
            if satisfied >= wanted or received >= self.cap:
                break
        return satisfied, received

    def _local_rows(self, keep_slice):
        """The local rows this queryset returns (with or without its slice), as a plain queryset."""
        local = self.queryset.skip_cdms()
        if not keep_slice:
            local.query.clear_limits()
        if not (keep_slice and self.sliced):
            local.query.clear_ordering(force=True)
        return self.model._base_manager.filter(pk__in=local.values("pk"))

    def _local_keys(self):
        return set(self._local_rows(keep_slice=True).exclude(cdms_pk=None).values_list("cdms_pk", flat=True))

    def verify_suspects(self):
        if self.answered:
            return
        for _ in range(MAX_SUSPECT_ROUNDS):
            suspects = self._local_keys() - self.seen
            if not suspects:
                return
            self._remove(suspects & self.known_absent)
            to_check = self._within_cap(suspects - self.known_absent)
            found = set()
            for page in fetch.by_keys(self.migrator, to_check):
                found.update(reconcile_page(self.model, page))
            self._remove(to_check - found)
            self.seen |= suspects
            if not self.sliced:
                return

    def _within_cap(self, keys):
        # After a read cut short by the cap, every local row past it is a suspect; checking
        # them all would cost a request per 50 rows of the whole local table.
        if len(keys) <= self.cap:
            return keys
        log.warning(
            "%s: %d local rows could not be checked against the CRM (CDMS_SYNC_MAX_ROWS=%d); "
            "checked the first %d.",
            self.model.__name__,
            len(keys),
            self.cap,
            self.cap,
        )
        return set(sorted(keys)[: self.cap])

    def _remove(self, keys):
        remove_gone(self.model, keys)
