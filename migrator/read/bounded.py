"""Bounded-staleness reads: answer from the local mirror when the follower keeps it fresh enough.

A queryset's bound S comes from `.max_staleness(S)`, else from `CDMS_MAX_STALENESS`; `.strict()`
(or no bound at all) makes every read strict. Whether the mirror may answer is the gate's call
(`gate`: the change watermark within S for every read; the delete watermark, for what
verification cannot check, only marks the answer). A read the mirror answers is evaluated by
the local database, and the model instances (or plain rows, or the rows of each part of a
union) it returns are verified by key, one batched request per 27 keys (Organisation), except those a CRM
answer showed within the bound (`mirror.vouching`): a row deleted or changed in the CRM is
removed or refreshed and the query is evaluated again, so a row deleted more than S ago is never
shown and a slice stays full. `CDMS_UNVERIFIED_READS` turns verification off (deletions are then
as fresh as the delete watermark, which such reads judge). count(), exists() and aggregates
are answered from the mirror alone. When a change watermark is past its bound,
`CDMS_STALE_READS` decides (see `gate`).

The moment a read was answered at (its oldest watermark, or "strict"), and how stale a marked
answer is, are noted for the current unit of work, so that the API can tell a client.
"""

import datetime as dt
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models
from django.db.models.sql.query import Query
from django.utils import timezone

from cdms_api.exceptions import CDMSConnectionError, CDMSTimeoutError, CDMSUnavailableError

from .. import fetch
from ..cdms_migrator import get_migrator
from ..conf import cdms_settings
from ..exceptions import ReadCapError, StaleMirrorError
from ..mirror import vouching
from ..mirror.reconcile import compared_values, local_state, reconcile_page
from ..mirror.removal import remove_gone
from . import gate
from .strict import sync_queryset

log = logging.getLogger("migrator.read.bounded")

STRICT = "strict"
# The CRM failing to answer, as opposed to answering no: a stale mirror may stand in for it.
UNREACHABLE = (CDMSConnectionError, CDMSTimeoutError, CDMSUnavailableError)
_answered_at = ContextVar("cdms_answered_at", default=None)


def check_bound(seconds):
    """`seconds` as a float bound; a ValueError naming the problem otherwise."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError(f"a staleness bound is a non-negative number of seconds, not {seconds!r}")
    return float(seconds)


def bound_of(queryset):
    """The staleness bound (seconds) a queryset may be read at, or None for a strict read."""
    chosen = queryset._staleness
    if chosen == STRICT:
        return None
    if chosen is not None:
        return chosen
    return cdms_settings.CDMS_MAX_STALENESS


def entities_of(queryset):
    """The CRM entities whose rows can change the queryset's answer (subqueries included)."""
    tables = _tables(queryset.query)
    found = {
        get_migrator(model).service
        for model in apps.get_models()
        if get_migrator(model) is not None and model._meta.db_table in tables
    }
    return sorted(found)


def _tables(query):
    """The tables a query reads: its own, its joins', its subqueries' and its combined parts'."""
    tables = {query.model._meta.db_table, *(alias.table_name for alias in query.alias_map.values())}
    for inner in (*_subqueries(query.where), *query.combined_queries):
        tables |= _tables(inner)
    return tables


def verifiable(queryset):
    """True when the rows the read returns stand for records that can be checked by key.

    A slice that starts past its first row is not: rows deleted in the CRM before it shift it.
    """
    query = queryset.query
    if query.low_mark:
        return False
    return not _aggregated(query)


def _aggregated(query):
    return query.group_by is not None or any(
        getattr(a, "contains_aggregate", False) for a in query.annotations.values()
    )


def _subqueries(node):
    """The Query objects inside a where-tree (`pk__in=<queryset>`, Exists(), Subquery())."""
    inner = getattr(node, "query", node)
    if isinstance(inner, Query):
        yield inner
        return
    parts = getattr(node, "children", None)
    if parts is None:
        parts = node.get_source_expressions() if hasattr(node, "get_source_expressions") else ()
    for part in parts:
        yield from _subqueries(part)


def plan(queryset, bound, judge_deletions, **options):
    """Read strictly, or say the mirror answers (True); a stale mirror goes the way `CDMS_STALE_READS` says."""
    verdict = gate.judge(entities_of(queryset), queryset.db, bound, judge_deletions)
    if verdict.mirror_may_answer:
        if verdict.deletions:
            gate.marked(verdict, "rows deleted in the CRM since the last key sweep may be counted")
        note_answered(verdict.moment, verdict.stale_seconds)
        return True
    mode = gate.stale_mode()
    if mode == "error":
        raise StaleMirrorError(verdict.describe())
    degrade = mode == "mirror" and verdict.moment is not None
    if degrade and _local_rows_exceed_cap(queryset):
        return _answer_marked(verdict, "a strict read would be larger than CDMS_SYNC_MAX_ROWS")
    gate.fell_back(verdict)
    try:
        sync_queryset(queryset, **options)
    except ReadCapError as exc:
        if not degrade:
            raise exc.because(verdict.describe()) from None
        return _answer_marked(verdict, "the strict read was larger than CDMS_SYNC_MAX_ROWS")
    except UNREACHABLE:
        if not degrade:
            raise
        return _answer_marked(verdict, "the CRM did not answer the strict read")
    note_answered(STRICT)
    return False


def _answer_marked(verdict, why):
    gate.marked(verdict, why)
    note_answered(verdict.moment, verdict.stale_seconds)
    return True


def _local_rows_exceed_cap(queryset):
    """True when the mirror alone holds more rows for this read than a strict read may fetch."""
    cap = cdms_settings.CDMS_SYNC_MAX_ROWS
    plain = queryset.skip_cdms()
    plain.query.clear_limits()
    plain.query.clear_ordering(force=True)
    return plain[cap : cap + 1].exists()


def answered_unverified(queryset):
    """Note that the CRM could not check the rows of a mirror answer by key: it stands, marked stale."""
    moment, age = gate.unverified(entities_of(queryset), queryset.db)
    note_answered(moment, age)


def note_answered(moment, stale_seconds=None):
    """Record that a read of the current unit of work was answered at `moment` (or STRICT).

    `stale_seconds`: the answer came from a mirror whose watermark was that many seconds past
    being fresh (None: it was not marked).
    """
    seen = _answered_at.get()
    if seen is None:
        return
    if stale_seconds is not None:
        seen.stale.append(stale_seconds)
    if moment == STRICT or STRICT in seen.moments:
        seen.moments[:] = [STRICT]
    elif moment is not None:
        seen.moments.append(moment)


@dataclass
class _Seen:
    moments: list = field(default_factory=list)
    stale: list = field(default_factory=list)


class answered_at:  # noqa: N801 - reads as a function at the call site
    """Collect the freshness of the reads made inside this block; `.header()` summarises it."""

    def __enter__(self):
        self._token = _answered_at.set(_Seen())
        return self

    def __exit__(self, *exc_info):
        self.seen = _answered_at.get()
        _answered_at.reset(self._token)
        return False

    def header(self):
        """`strict`, the oldest watermark as ISO 8601 UTC, or None if nothing synced was read."""
        moments = self.seen.moments
        if not moments:
            return None
        if STRICT in moments:
            return STRICT
        return min(moments).astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

    def stale_header(self):
        """Seconds the stalest marked answer of the block lagged (`unknown`: never followed), or None."""
        stale = self.seen.stale
        if not stale:
            return None
        if any(age is None for age in stale):
            return "unknown"
        return f"{max(stale):.0f}"


def verifies_rows():
    """False when `CDMS_UNVERIFIED_READS` serves bounded rows as the mirror holds them."""
    return not cdms_settings.CDMS_UNVERIFIED_READS


def verify_rows(queryset, verified):
    """Check by key the CRM records of the rows `queryset` returned; True if any was gone or changed.

    Rows the CRM vouched for within the read's bound are not checked again (`vouching`).
    """
    if not verifies_rows():
        return False
    migrator = get_migrator(queryset.model)
    local = _local_versions(queryset, bound_of(queryset) or 0.0)
    keys = set(local) - verified
    if not keys:
        return False
    verified |= keys
    found = {}
    asked = timezone.now()
    wanted, unchanged = _stamps_first(queryset, migrator, keys, local, asked)
    for page in fetch.by_keys(migrator, wanted):
        for record in page:
            values = migrator.from_cdms(record)
            state = (values["modified"], values["cdms_version"], compared_values(migrator, values))
            found[values["cdms_pk"]] = state
        reconcile_page(queryset.model, page, asked_at=asked)
    gone = keys - set(found) - unchanged
    if gone:
        remove_gone(queryset.model, gone, queryset.db)
    return bool(gone) or any(found[key] != local[key] for key in found)


def _stamps_first(queryset, migrator, keys, local, asked):
    """(keys to fetch whole, keys the CRM holds unchanged): by stamps first, when that saves requests.

    Only when the records themselves would take more than one request: the stamps of a page
    fit one, and then only the rows that changed are fetched whole. Equal `ModifiedOn` and
    `VersionNumber` prove a record unchanged (it is vouched for); without a version, only its
    values can, so it is fetched. A key the stamps request answered without is not fetched.
    """
    if len(fetch.key_parts(migrator, keys)) < 2:
        return keys, set()
    stamps = fetch.stamps(migrator, keys)
    unchanged = {key for key, stamp in stamps.items() if stamp[1] is not None and stamp == local[key][:2]}
    vouching.vouch(queryset.model, unchanged, asked, queryset.db)
    return stamps.keys() - unchanged, unchanged


def _local_versions(queryset, bound):
    """{cdms_pk: (modified, version, mapped values)} of the result cache's rows not vouched for within `bound`."""
    if issubclass(queryset._iterable_class, models.query.ModelIterable):
        pks = [row.pk for row in queryset._result_cache or [] if row is not None]
    else:
        pks = _pks_of_plain_rows(queryset)
    rows = queryset.model._base_manager.db_manager(queryset.db).filter(pk__in=pks).exclude(cdms_pk=None)
    rows = vouching.unvouched(rows, bound)
    # With the mapped values: a CRM that sends no VersionNumber shows a change within one
    # second only in them.
    return local_state(queryset.model, get_migrator(queryset.model), None, rows=rows)


def _pks_of_plain_rows(queryset):
    """The primary keys behind a values()/values_list() result, when rows are model rows.

    The rows of union(), intersection() and difference() come from their parts: every row each
    part can return is checked, which covers whatever the combination keeps.
    """
    query = queryset.query
    if query.combinator:
        return [pk for part in query.combined_queries for pk in _pks_of_part(queryset, part)]
    if _aggregated(query):
        return []  # aggregated rows stand for no single record: answered from the mirror
    if _flat_keys(queryset):
        return list(queryset._result_cache or [])  # the rows are the keys: no second statement
    return list(queryset.skip_cdms().values_list("pk", flat=True))


def _flat_keys(queryset):
    """True for `values_list("pk", flat=True)` (or the primary key's own name)."""
    names = {"pk", queryset.model._meta.pk.name, queryset.model._meta.pk.attname}
    flat = issubclass(queryset._iterable_class, models.query.FlatValuesListIterable)
    return flat and len(queryset._fields) == 1 and queryset._fields[0] in names


def _pks_of_part(queryset, part):
    if part.model is not queryset.model or _aggregated(part) or part.combinator:
        return []
    plain = queryset.model._base_manager.db_manager(queryset.db).all()
    plain.query = part.clone()
    plain.query.clear_ordering(force=True)
    return list(plain.values_list("pk", flat=True))
