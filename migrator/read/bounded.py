"""Bounded-staleness reads: answer from the local mirror when the follower keeps it fresh enough.

A queryset's bound S comes from `.max_staleness(S)`, else from `CDMS_MAX_STALENESS`; `.strict()`
(or no bound at all) makes every read strict. A read may use the mirror when, for every entity
the query touches, the follower's watermark is at most S old and the last complete key sweep
at most `CDMS_MAX_DELETE_STALENESS` old. It is then answered by the local database, and the
model instances (or plain rows) it returns are verified by key, one batched request per 50
rows: a row deleted or changed in the CRM is removed or refreshed and the query is evaluated
again, so it is never shown and a slice stays full. count(), exists() and aggregates are
answered from the mirror alone. When a watermark is too old (the follower stopped or is
behind) the read is strict, and a log line says so.

The moment a read was answered at (its oldest watermark, or "strict") is noted for the current
unit of work, so that the API can tell a client how fresh a page is.
"""

import datetime as dt
import logging
from contextvars import ContextVar

from django.apps import apps
from django.db import models
from django.db.models.sql.query import Query
from django.utils import timezone

from .. import fetch
from ..cdms_migrator import get_migrator
from ..conf import cdms_settings
from ..instruments import strict_fallback
from ..mirror.reconcile import reconcile_page
from ..mirror.removal import remove_gone
from ..mirror.state import Watermark

log = logging.getLogger("migrator.read.bounded")

STRICT = "strict"
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
    """The tables a query reads: its own, its joins', and those of the subqueries in its filter."""
    tables = {query.model._meta.db_table, *(alias.table_name for alias in query.alias_map.values())}
    for inner in _subqueries(query.where):
        tables |= _tables(inner)
    return tables


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


def usable_watermark(queryset, bound):
    """The oldest watermark of the query's entities if all are within the bound, else None."""
    entities = entities_of(queryset)
    marks = {w.entity: w for w in Watermark.objects.using(queryset.db).filter(entity__in=entities)}
    now = timezone.now()
    delete_bound = dt.timedelta(seconds=max(bound, cdms_settings.CDMS_MAX_DELETE_STALENESS))
    for entity in entities:
        mark = marks.get(entity)
        if mark is None or mark.changes_until is None or mark.deletions_until is None:
            log.warning("%s: no follower watermark yet; reading strictly.", entity)
            strict_fallback(entity)
            return None
        age = now - mark.changes_until
        if age > dt.timedelta(seconds=bound):
            log.warning(
                "%s: the follower's watermark is %.1f s old, past the bound of %.1f s; reading strictly.",
                entity,
                age.total_seconds(),
                bound,
            )
            strict_fallback(entity)
            return None
        if now - mark.deletions_until > delete_bound:
            log.warning("%s: the last key sweep is older than %s; reading strictly.", entity, delete_bound)
            strict_fallback(entity)
            return None
    return min(marks[entity].changes_until for entity in entities)


def note_answered(moment):
    """Record that a read of the current unit of work was answered at `moment` (or STRICT)."""
    seen = _answered_at.get()
    if seen is None:
        return
    if moment == STRICT or STRICT in seen:
        seen[:] = [STRICT]
    else:
        seen.append(moment)


class answered_at:  # noqa: N801 - reads as a function at the call site
    """Collect the freshness of the reads made inside this block; `.header()` summarises it."""

    def __enter__(self):
        self._token = _answered_at.set([])
        return self

    def __exit__(self, *exc_info):
        self.seen = _answered_at.get()
        _answered_at.reset(self._token)
        return False

    def header(self):
        """`strict`, the oldest watermark as ISO 8601 UTC, or None if nothing synced was read."""
        seen = self.seen
        if not seen:
            return None
        if STRICT in seen:
            return STRICT
        return min(seen).astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def verify_rows(queryset, verified):
    """Check by key the CRM records of the rows `queryset` returned; True if any was gone or changed."""
    migrator = get_migrator(queryset.model)
    local = _local_versions(queryset)
    keys = set(local) - verified
    if not keys:
        return False
    verified |= keys
    found = {}
    for page in fetch.by_keys(migrator, keys):
        for record in page:
            values = migrator.from_cdms(record)
            found[values["cdms_pk"]] = (values["modified"], values["cdms_version"])
        reconcile_page(queryset.model, page)
    gone = keys - set(found)
    if gone:
        remove_gone(queryset.model, gone, queryset.db)
    return bool(gone) or any(found[key] != local[key] for key in found)


def _local_versions(queryset):
    """{cdms_pk: (modified, version)} of the rows in the queryset's result cache."""
    if issubclass(queryset._iterable_class, models.query.ModelIterable):
        pks = [row.pk for row in queryset._result_cache or [] if row is not None]
    else:
        pks = _pks_of_plain_rows(queryset)
    versions = queryset.model._base_manager.db_manager(queryset.db).filter(pk__in=pks).exclude(cdms_pk=None)
    return {
        key: (modified, version)
        for key, modified, version in versions.values_list("cdms_pk", "modified", "cdms_version")
    }


def _pks_of_plain_rows(queryset):
    """The primary keys behind a values()/values_list() result, when rows are model rows."""
    query = queryset.query
    if (
        query.group_by is not None
        or query.combinator
        or any(getattr(a, "contains_aggregate", False) for a in query.annotations.values())
    ):
        return []  # aggregated rows stand for no single record: answered from the mirror
    return list(queryset.skip_cdms().values_list("pk", flat=True))
