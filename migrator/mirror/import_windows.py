"""One window of an import run, copied by whichever worker takes it (see `migrator.mirror.tasks`).

`cdms_import --celery` plans a run as `importer` does (ModifiedOn windows recorded in the
entity's ImportCursor), queues a task per window and waits for them. A worker walks its
window, reconciles each page (a monotonic upsert: a window copied twice is harmless) and
marks the window done; the command then finishes the run, moving the cursor.
"""

import logging
import time

from django.db import connections, router, transaction

from migrator import fetch
from migrator.cdms_migrator import get_migrator
from migrator.exceptions import ObjectsNotInSyncError
from migrator.mirror.reconcile import reconcile_page
from migrator.mirror.state import ImportCursor

from . import windows
from .importer import COMMIT_SECONDS, IMPORT_COMMENT, PAGES_PER_COMMIT

log = logging.getLogger("migrator.import")


def import_one_window(model, index):
    """Copy window `index` of the model's import run; returns "done", or "nothing" if not needed."""
    migrator = get_migrator(model)
    cursor = ImportCursor.objects.filter(entity=migrator.service).first()
    if cursor is None or not cursor.run_in_progress or index in cursor.windows_done:
        return "nothing"
    window = windows.split(cursor.run_start, cursor.run_end, cursor.run_windows)[index]
    _mark(migrator.service, index, cursor.run_start, "windows_taken")
    # The next page is on its way while this one is written.
    pages = fetch.prefetched(lambda: fetch.window_pages(migrator, window))
    _write_pages(model, iter(pages))
    _mark(migrator.service, index, cursor.run_start, "windows_done")
    return "done"


def _write_pages(model, pages):
    """Reconcile the pages; on SQLite several to a transaction, as `cdms_import` does in-process.

    SQLite's commit waits for the disk and takes the one write lock, so a commit a page bounds
    the rate; up to PAGES_PER_COMMIT pages or COMMIT_SECONDS share one (the lock is not held
    much longer than that). PostgreSQL commits each page, keeping its row locks short.
    """
    using = router.db_for_write(model)
    batch = PAGES_PER_COMMIT if connections[using].vendor == "sqlite" else 1
    page = next(pages, None)
    while page is not None:
        with transaction.atomic(using=using):
            deadline, written = time.monotonic() + COMMIT_SECONDS, 0
            while page is not None and written < batch and time.monotonic() < deadline:
                _write(model, page)
                written += 1
                page = next(pages, None)


def _write(model, page):
    try:
        reconcile_page(model, page, comment=IMPORT_COMMENT)
    except ObjectsNotInSyncError as exc:  # the rest of the page was written
        log.warning("%s", exc)


def _mark(entity, index, run_start, field):
    """Add window `index` to the run's `windows_taken` or `windows_done` (if it is still that run)."""
    with transaction.atomic():
        cursor = ImportCursor.objects.select_for_update().get(entity=entity)
        marked = getattr(cursor, field)
        if cursor.run_start == run_start and index not in marked:
            setattr(cursor, field, sorted([*marked, index]))
            cursor.save(update_fields=[field, "updated"])


def windows_left(entity):
    """Indexes of the windows of the entity's run not yet done ([] when no run is under way)."""
    cursor = ImportCursor.objects.get(entity=entity)
    if not cursor.run_in_progress:
        return []
    every = windows.split(cursor.run_start, cursor.run_end, cursor.run_windows)
    return [w.index for w in every if w.index not in cursor.windows_done]
