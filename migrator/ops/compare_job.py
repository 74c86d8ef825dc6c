"""Comparisons with the CRM in the background: the sync page starts one and shows its progress.

Finding conflicts lists every CRM key of an entity, one request per 50 records: 2,000 requests
for 100,000 accounts, minutes at real latencies, too long for one web request. `start` runs the
comparison on a thread of the web process and records its progress in a `ComparisonRun` row
(CRM records listed, of about as many as there are local rows), which every web process can
show; a finished run keeps the keys of the rows newer locally than in the CRM. A run whose
progress has not moved for `STALLED_SECONDS` (its process ended) counts as interrupted, and
another may be started; at most one live run per entity.
"""

import datetime as dt
import logging
import threading

from django.db import connections, transaction
from django.utils import timezone

from ..mirror.state import ComparisonRun, Watermark
from .comparison import BUCKETS, compare

log = logging.getLogger("migrator.ops.compare_job")

STALLED_SECONDS = 60
# A progress write every few pages of keys, not every page: one UPDATE per 250 records listed.
PAGES_PER_UPDATE = 5


def latest(entity):
    """The entity's most recent ComparisonRun, or None."""
    return ComparisonRun.objects.filter(entity=entity).order_by("-started", "-pk").first()


def is_live(run):
    """True while `run` is running and its progress moved within `STALLED_SECONDS`."""
    fresh = timezone.now() - run.updated < dt.timedelta(seconds=STALLED_SECONDS)
    return run.state == ComparisonRun.RUNNING and fresh


def start(migrator, wait=False):
    """Start comparing the migrator's entity with the CRM on a thread (unless one is live); returns the run.

    `wait` joins the thread before returning (for a caller that has nothing else to do).
    """
    entity = migrator.service
    with transaction.atomic():
        Watermark.objects.get_or_create(entity=entity)
        Watermark.objects.select_for_update().get(entity=entity)  # one starter at a time per entity
        running = latest(entity)
        if running is not None and is_live(running):
            return running
        run = ComparisonRun.objects.create(entity=entity, expected_rows=migrator.model_class._base_manager.count())
    thread = threading.Thread(target=_run, args=(migrator, run.pk), name=f"cdms-compare-{entity}", daemon=True)
    thread.start()
    if wait:
        thread.join()
    return run


def _run(migrator, pk):
    rows = ComparisonRun.objects.filter(pk=pk)
    pages = [0]

    def progress(listed):
        pages[0] += 1
        if pages[0] % PAGES_PER_UPDATE == 0:
            rows.update(crm_rows_listed=listed, updated=timezone.now())

    try:
        drift = compare(migrator, progress=progress)
        counts = {bucket: len(getattr(drift, bucket)) for bucket in BUCKETS}
        rows.update(
            state=ComparisonRun.DONE, finished=timezone.now(), updated=timezone.now(),
            crm_rows_listed=drift.crm_rows, local_newer=drift.local_newer,
            counts={**counts, "local_rows": drift.local_rows},
        )  # fmt: skip
    except Exception as exc:  # recorded for the page: nothing else waits on this thread
        log.warning("%s: comparison with the CRM failed: %s", migrator.service, exc)
        rows.update(state=ComparisonRun.FAILED, finished=timezone.now(), error=str(exc)[:2000])
    finally:
        connections.close_all()
