"""`CDMSQuerySet`: a QuerySet that reconciles with the CRM before the database answers.

Every way a queryset is evaluated (iteration, len, bool, slicing, get, count, exists,
aggregate, iterator, values, prefetching...) passes through one of the hooks below. A strict
read first brings the rows the query can return up to date from the CRM (`strict`) and then
lets Django evaluate the query locally with its exact semantics. A bounded read (a staleness
bound, and a follower whose watermarks are within it: see `bounded`) is answered by the
local database, and the rows it returns are verified by key. Writes (`update`, `delete`,
`bulk_create`, `bulk_update`) go through `bulk`.
"""

from django.db import models

from ..context import is_skipping, skip_cdms
from ..exceptions import NotSupportedError
from ..write import bulk
from . import bounded
from .strict import sync_queryset


class CDMSQuerySet(models.QuerySet):
    """QuerySet of a synced model."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._skip_cdms = False
        self._staleness = None  # None: the configured bound; a number of seconds; or STRICT

    def _clone(self):
        clone = super()._clone()
        clone._skip_cdms = self._skip_cdms
        clone._staleness = self._staleness
        return clone

    def strict(self):
        """A new queryset whose reads always sync with the CRM first, whatever the configured bound."""
        clone = self._chain()
        clone._staleness = bounded.STRICT
        return clone

    def max_staleness(self, seconds):
        """A new queryset that may be answered from the mirror when it is at most `seconds` behind the CRM."""
        clone = self._chain()
        clone._staleness = bounded.check_bound(seconds)
        return clone

    def skip_cdms(self):
        """A new queryset that never calls the CRM."""
        clone = self._chain()
        clone._skip_cdms = True
        return clone

    @property
    def syncs_with_cdms(self):
        """True when evaluating this queryset calls the CRM."""
        return not (self._skip_cdms or is_skipping())

    def _sync(self, judge_deletions=False, **options):
        """Sync strictly unless the mirror may answer; True when the read is answered from the mirror.

        `judge_deletions`: the answer counts rows (count, exists, aggregates, contains) rather
        than returning rows that are verified by key, so the delete watermark is judged too.
        """
        if not self.syncs_with_cdms:
            return False
        bound = bounded.bound_of(self)
        if bound is None:
            bounded.note_answered(bounded.STRICT)
            sync_queryset(self, **options)
            return False
        unchecked = not bounded.verifiable(self) or not bounded.verifies_rows()
        return bounded.plan(self, bound, judge_deletions or unchecked, **options)

    def _fetch_all(self):
        if self._result_cache is None and self._sync():
            self._fetch_verified()
        super()._fetch_all()

    def _fetch_verified(self):
        """Evaluate locally and verify the returned rows by key until none was gone or changed.

        With `CDMS_STALE_READS=mirror`, a CRM that does not answer the check leaves the answer
        standing, marked stale, rather than failing the read.
        """
        verified = set()
        while True:
            super()._fetch_all()
            try:
                changed = bounded.verify_rows(self, verified)
            except bounded.UNREACHABLE:
                if bounded.gate.stale_mode() != "mirror":
                    raise
                bounded.answered_unverified(self)
                return
            if not changed:
                return
            self._result_cache = None
            self._prefetch_done = False

    def iterator(self, chunk_size=None):
        """Iterates without caching, after one sync (a bounded read is verified as a whole first)."""
        if self._sync():
            verified = self._chain()
            verified._fetch_verified()
            return iter(verified._result_cache)
        return super().iterator(chunk_size=chunk_size)

    def count(self):
        """The number of rows, after a sync."""
        if self._result_cache is None:
            self._sync(judge_deletions=True)
        return super().count()

    def exists(self):
        """Whether any row matches, fetching only until one is found."""
        if self._result_cache is None:
            self._sync(judge_deletions=True, need=1)
        return super().exists()

    def aggregate(self, *args, **kwargs):
        """Aggregates over the synced rows."""
        self._sync(judge_deletions=True)
        return super().aggregate(*args, **kwargs)

    def contains(self, obj):
        """Whether the queryset holds `obj`, after one sync (the unsliced read's)."""
        if self._result_cache is not None:
            return super().contains(obj)
        self._sync(judge_deletions=True)
        # Django asks `filter(pk=obj.pk).exists()`, a second read: the synced rows answer it.
        return super(CDMSQuerySet, self.skip_cdms()).contains(obj)

    def update(self, **kwargs):
        """Updates every matching row in the CRM, then locally."""
        if not self.syncs_with_cdms:
            return super().update(**kwargs)
        return bulk.update_queryset(self, kwargs)

    update.alters_data = True

    def delete(self):
        """Deletes every matching row in the CRM, then locally."""
        if not self.syncs_with_cdms:
            return super().delete()
        return bulk.delete_queryset(self)

    delete.alters_data = True
    delete.queryset_only = True

    def bulk_create(self, objs, *args, **kwargs):
        """Creates the objects in the CRM (concurrently), then locally in one statement."""
        if not self.syncs_with_cdms:
            return super().bulk_create(objs, *args, **kwargs)
        return bulk.bulk_create(self, list(objs), *args, **kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        """Updates the given fields of the objects in the CRM (concurrently), then locally."""
        if not self.syncs_with_cdms:
            return super().bulk_update(objs, fields, batch_size=batch_size)
        return bulk.bulk_update(self, list(objs), fields)

    def _locally_if_skipping(self, method, *args, **kwargs):
        # Saves made by create() and friends go through Model.save(), which cannot see this
        # queryset's flag: carry it over as a skip_cdms() block.
        if self.syncs_with_cdms:
            return method(*args, **kwargs)
        with skip_cdms():
            return method(*args, **kwargs)

    def create(self, **kwargs):
        """Create an object (through the CRM unless this queryset skips it)."""
        return self._locally_if_skipping(super().create, **kwargs)

    def get_or_create(self, defaults=None, **kwargs):
        """Django's get_or_create, through the CRM unless this queryset skips it."""
        return self._locally_if_skipping(super().get_or_create, defaults=defaults, **kwargs)

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        """Django's update_or_create, through the CRM unless this queryset skips it."""
        return self._locally_if_skipping(
            super().update_or_create, defaults=defaults, create_defaults=create_defaults, **kwargs
        )

    def raw(self, raw_query, params=(), translations=None, using=None):
        """Raw SQL cannot be synced: allowed only when the CRM is skipped."""
        if self.syncs_with_cdms:
            raise NotSupportedError("raw", "raw SQL cannot be translated for the CRM; use skip_cdms().raw(...)")
        return super().raw(raw_query, params, translations, using)

    def _chain_with_query(self, query):
        """A queryset of this kind over another query (a part of a union)."""
        clone = self._chain()
        clone.query = query.chain()
        return clone
