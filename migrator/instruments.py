"""The sync's Prometheus instruments: what the CRM costs, what the sync wrote, where rows came from.

Every part of the sync layer counts into these, so they sit beside the settings and the mapping.
Counters and histograms live in prometheus-client's registry; with PROMETHEUS_MULTIPROC_DIR set
(before this module is imported) every process writes its values to files there and `/metrics`
adds them up, so several web and worker processes report as one service. What is read at scrape
time (the ages of the watermarks) is in `ops.metrics`.

What counts as a row's source is the `sync_source(...)` block it was written in ("read" when
none is active): the follower, a key sweep, `cdms_import`, or a write through the sync layer.
Writes are counted from the CRM's answers (a created POST, a MERGE, a DELETE), which is where
a write is known to have happened.
"""

from contextlib import ContextDecorator
from contextvars import ContextVar

from prometheus_client import Counter, Gauge, Histogram

from .cdms_migrator import get_migrator

SOURCES = ("read", "follower", "sweep", "import", "write")
CHANGES = ("refreshed", "created", "removed")
# CRM 2011 answers a page of 50 in tens to hundreds of milliseconds; a timeout is 30 s.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# A successful CRM write is a row changed on both sides, from the "write" source.
WRITE_CHANGES = {"POST": "created", "MERGE": "refreshed", "DELETE": "removed"}

requests_total = Counter(
    "cdms_requests_total", "CRM requests (each HTTP attempt)", ["method", "entity", "outcome"]
)
request_seconds = Histogram(
    "cdms_request_duration_seconds", "CRM request latency", ["method", "entity"], buckets=LATENCY_BUCKETS
)
rows_total = Counter("cdms_rows_total", "Local rows changed by the sync", ["entity", "source", "change"])
strict_fallbacks_total = Counter(
    "cdms_strict_fallbacks_total", "Bounded-staleness reads that had to read the CRM strictly", ["entity"]
)
stale_answers_total = Counter(
    "cdms_stale_answers_total",
    "Bounded reads answered from the mirror while a watermark was past its bound (marked stale)",
    ["entity", "watermark"],
)
conflicts_total = Counter("cdms_conflicts_total", "CRM records met whose local row was newer", ["entity"])
write_conflicts_total = Counter(
    "cdms_write_conflicts_total",
    "CRM writes left in place when their transaction rolled back: someone else changed the record since",
    ["entity"],
)
follower_rounds_total = Counter("cdms_follower_rounds_total", "Rounds of the change follower", ["entity"])
follower_lag = Gauge(
    "cdms_follower_lag_seconds",
    "How far behind the CRM the follower's last round ended",
    ["entity"],
    multiprocess_mode="mostrecent",
)

_source = ContextVar("cdms_sync_source", default="read")


class sync_source(ContextDecorator):  # noqa: N801 - reads as a function at the call site
    """Count rows written inside this block (or decorated function) as coming from `name`."""

    def __init__(self, name):
        if name not in SOURCES:
            raise ValueError(f"unknown sync source {name!r}: use one of {', '.join(SOURCES)}")
        self.name = name
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_source.set(self.name))
        return self

    def __exit__(self, *exc_info):
        _source.reset(self._tokens.pop())
        return False


def current_source():
    """Return the source of the rows written now."""
    return _source.get()


def entity_of(model_or_name):
    """Return the CRM entity name of a synced model, a CRM entity name, or an entity set name."""
    if isinstance(model_or_name, str):
        return model_or_name.removesuffix("Set") or "service"
    migrator = get_migrator(model_or_name)
    return migrator.service if migrator else model_or_name._meta.label


def rows_synced(entity, source=None, refreshed=0, created=0, removed=0):
    """Count rows of `entity` refreshed, created and removed locally (source: the current one)."""
    source = source or current_source()
    for change, count in (("refreshed", refreshed), ("created", created), ("removed", removed)):
        if count:
            rows_total.labels(entity_of(entity), source, change).inc(count)


def conflict(entity, count=1):
    """Count CRM records whose local row was newer (a write bypassed the CRM)."""
    if count:
        conflicts_total.labels(entity_of(entity)).inc(count)


def strict_fallback(entity):
    """Count a bounded-staleness read that fell back to a strict read."""
    strict_fallbacks_total.labels(entity_of(entity)).inc()


def stale_answer(entity, watermark):
    """Count a read answered from the mirror, marked stale because `watermark` was past its bound."""
    stale_answers_total.labels(entity_of(entity), watermark).inc()


def follower_round(entity, lag_seconds):
    """Record a finished follower round of `entity` and how far behind the CRM it ended."""
    follower_rounds_total.labels(entity_of(entity)).inc()
    follower_lag.labels(entity_of(entity)).set(lag_seconds)


def outcome_of(status):
    """Return the outcome label of an HTTP status (None: no answer)."""
    if status is None:
        return "no_answer"
    return "ok" if 200 <= status < 300 else f"{status // 100}xx"


def observe_request(record):
    """Count one CRM request (a `cdms_api.counting.RequestRecord`)."""
    entity = entity_of(record.entity_set)
    requests_total.labels(record.method, entity, outcome_of(record.status)).inc()
    request_seconds.labels(record.method, entity).observe(record.ms / 1000)
    change = WRITE_CHANGES.get(record.method)
    if change and record.status is not None and 200 <= record.status < 300:
        rows_synced(entity, "write", **{change: 1})
