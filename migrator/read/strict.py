"""The strict synced read: bring every row a queryset can return up to date, then let Django answer.

1. Dependencies: sync what the filters depend on (subqueries, rows across a relation) and
   compile the where-tree into a sound remote predicate, without I/O (`dependencies`, `compiler`).
2. Fetch: a strategy chosen in one place (`strategies.choose`) fetches the matching CRM rows and
   reconciles them page by page. A read that needs more than CDMS_SYNC_MAX_ROWS rows raises
   ReadCapError instead of answering short.
3. Related rows: when the query reads across a relation it could not filter by (an annotation,
   `contacts__isnull`, `values("organisation__name")`), the rows related to the fetched ones are
   synced too.
4. Suspects: local rows that can change the answer but were not fetched (stale, or deleted in
   the CRM) are fetched by key; those that exist are refreshed, those the CRM answers without are
   removed (with their parental children). For a slice `[a:b]`, `first()` or `exists()` these are
   the unfetched rows among the first `b` in local order, checked again until they are all fresh.
5. The caller evaluates the queryset locally.
"""

import logging

from django.utils import timezone

from .. import fetch
from ..cdms_migrator import get_migrator
from ..conf import cdms_settings
from ..exceptions import ReadCapError
from ..mirror.reconcile import reconcile_page
from ..mirror.removal import parental_children, remove_gone
from . import dependencies
from .compiler import compile_where
from .strategies import choose

log = logging.getLogger("migrator.read.strict")
# When the window of a slice holds suspects, the rows just past it are checked in the same
# request: a deleted suspect pulls the next one into the window, and one by-key request holds
# about this many keys under IIS's query-string limit.
SUSPECT_SLACK = 25


def sync_queryset(queryset, need=None):
    """Reconcile the local rows that `queryset` may return with the CRM (a strict read)."""
    migrator = get_migrator(queryset.model)
    if migrator is None:
        return
    if queryset.query.combinator:  # union(), intersection(), difference(): sync each part
        for part in queryset.query.combined_queries:
            sync_queryset(queryset._chain_with_query(part))
        return
    deps = dependencies.prepare(queryset)
    read = Read(queryset, migrator, compile_where(queryset, deps), deps, need)
    read.run()


def expansions(queryset, migrator):
    """CRM navigation properties to `$expand` so `select_related` parents arrive with the page."""
    wanted = queryset.query.select_related
    if not wanted:
        return []
    names = migrator.navigation if wanted is True else [name for name in wanted if name in migrator.navigation]
    return [migrator.navigation[name] for name in names]


class Read:
    """One strict read of a queryset."""

    def __init__(self, queryset, migrator, predicate, deps, need=None):
        self.queryset = queryset
        self.migrator = migrator
        self.model = queryset.model
        self.predicate = predicate
        self.deps = deps
        self.seen = set()
        self.answered = False
        self.cap = cdms_settings.CDMS_SYNC_MAX_ROWS
        self.expand = expansions(queryset, migrator)
        query = queryset.query
        low, high = query.low_mark, query.high_mark
        # exists() on [a:b] is true when the query has more than `a` rows.
        self.need = None if need is None else low + need
        self.high = high if query.is_sliced else None
        self.window = self.need if need is not None else self.high
        # Sent before any of its requests, so every record this read fetches existed then.
        self.asked_at = timezone.now()

    def run(self):
        """Fetch, sync related rows, verify suspects."""
        strategy = choose(self)
        log.debug("%s: %s", self.model.__name__, type(strategy).__name__)
        strategy.fetch(self)
        self.sync_related()
        if not self.answered:
            self.verify_suspects()

    # Fetching (called by the strategies).

    def fetch_all(self, predicate):
        """Fetch every CRM row of one request's predicate; past the cap, raise ReadCapError."""
        pages = fetch.prefetched(
            lambda: fetch.pages(self.migrator, predicate, top=self.cap + 1, expand=self.expand)
        )
        for page in pages:
            self.seen.update(reconcile_page(self.model, page, asked_at=self.asked_at))
            if len(self.seen) > self.cap:
                raise ReadCapError(self.model, self.cap, "this read matches")

    def walk(self, predicate, orderby, top, wanted):
        """Fetch pages until `wanted` fetched rows satisfy the local query; return (satisfied, received, done)."""
        local = self.local_rows(window=None)
        satisfied = received = 0
        for page in fetch.pages(self.migrator, predicate, orderby=orderby, top=top, expand=self.expand):
            keys = reconcile_page(self.model, page, asked_at=self.asked_at)
            self.seen.update(keys)
            received += len(page)
            satisfied += local.filter(cdms_pk__in=keys).count() if keys else 0
            if satisfied >= wanted:
                return satisfied, received, False
            if received >= self.cap:
                raise ReadCapError(self.model, self.cap, f"finding {wanted} rows of this read took")
        return satisfied, received, True

    # Related rows.

    def sync_related(self):
        """Sync the rows related to the fetched ones across relations the filter could not narrow.

        Each path is followed a relation at a time: the parents or children of the rows synced
        at the step before.
        """
        for steps in sorted(self.deps.related_after, key=_path_order):
            model, keys = self.model, set(self.seen)
            for fk, forward in steps:
                if not keys:
                    break
                model, keys = (_sync_parents if forward else _sync_children)(model, fk, keys)

    # Suspects.

    def local_rows(self, window):
        """The local rows this queryset returns: all (window None) or the first `window` in its order."""
        local = self.queryset.skip_cdms()
        local.query.clear_limits()
        if window is None:
            local.query.clear_ordering(force=True)
        else:
            local.query.set_limits(0, window)
        return self.model._base_manager.filter(pk__in=local.values("pk"))

    def _unfetched(self, window):
        keys = self.local_rows(window).exclude(cdms_pk=None).values_list("cdms_pk", flat=True)
        return set(keys) - self.seen

    def verify_suspects(self):
        """Fetch by key the local rows that can change the answer but were not fetched, until none are left."""
        while True:
            suspects = self._unfetched(self.window)
            if not suspects:
                return
            if self.window is not None:
                suspects = self._unfetched(self.window + SUSPECT_SLACK)
            if len(suspects) > self.cap:
                raise ReadCapError(self.model, self.cap, f"{len(suspects)} local rows to check by key are")
            self.seen |= suspects
            verify_keys(self.model, suspects)
            if self.window is None:
                return  # every local match was checked at once

    def remove_gone(self, keys):
        """Remove the local rows of keys a by-key request answered without."""
        remove_proven_gone(self.model, keys)


def _path_order(steps):
    return [(fk.model._meta.label, fk.name, forward) for fk, forward in steps]


def _sync_parents(model, fk, keys):
    """Verify by key the parents of these rows; return (parent model, their keys)."""
    rows = model._base_manager.filter(cdms_pk__in=keys).exclude(**{f"{fk.name}__cdms_pk": None})
    parents = set(rows.values_list(f"{fk.name}__cdms_pk", flat=True))
    return fk.related_model, verify_keys(fk.related_model, parents)


def _sync_children(model, fk, keys):
    """Read the children of these rows; return (child model, their keys)."""
    children = fk.model._default_manager.filter(**{f"{fk.name}__cdms_pk__in": sorted(keys)})
    return fk.model, {key for key in children.values_list("cdms_pk", flat=True) if key}


def verify_keys(model, keys):
    """Fetch these keys by key: refresh the rows the CRM has, remove those it answers without; return found."""
    found = set()
    if not keys:
        return found
    asked = timezone.now()
    for page in fetch.by_keys(get_migrator(model), keys):
        found.update(reconcile_page(model, page, asked_at=asked))
    remove_proven_gone(model, set(keys) - found)
    return found


def remove_proven_gone(model, keys):
    """Remove the local rows of records proven gone, and of their children the CRM deleted with them.

    A local child may still point at a deleted parent although another CRM user had moved it
    elsewhere first: the children are checked by key, so only those really gone are removed.
    """
    for child, name in parental_children(model):
        rows = child._base_manager.filter(**{f"{name}__cdms_pk__in": keys}).exclude(cdms_pk=None)
        verify_keys(child, set(rows.values_list("cdms_pk", flat=True)))
    remove_gone(model, keys)
