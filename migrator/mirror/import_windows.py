"""One window of an import run, copied by whichever worker takes it (see `migrator.mirror.tasks`).

`cdms_import --celery` plans a run as `importer` does (ModifiedOn windows recorded in the
entity's ImportCursor), queues a task per window and waits for them. A worker walks its
window, reconciles each page (a monotonic upsert: a window copied twice is harmless) and
marks the window done; the command then finishes the run, moving the cursor.
"""

import logging

from django.db import transaction

from migrator import fetch
from migrator.cdms_migrator import get_migrator
from migrator.connection import get_client
from migrator.exceptions import ObjectsNotInSyncError
from migrator.mirror.reconcile import reconcile_page
from migrator.mirror.state import ImportCursor

from . import windows
from .importer import IMPORT_COMMENT

log = logging.getLogger("migrator.import")


def import_one_window(model, index):
    """Copy window `index` of the model's import run; returns "done", or "nothing" if not needed."""
    migrator = get_migrator(model)
    cursor = ImportCursor.objects.filter(entity=migrator.service).first()
    if cursor is None or not cursor.run_in_progress or index in cursor.windows_done:
        return "nothing"
    window = windows.split(cursor.run_start, cursor.run_end, cursor.run_windows)[index]
    _mark(migrator.service, index, cursor.run_start, "windows_taken")
    orderby = ["ModifiedOn", migrator.key_attribute]
    # The next page is on its way while this one is written.
    pages = fetch.prefetched(lambda: get_client().list(migrator.service, filter=window.filter(), orderby=orderby))
    for page in pages:
        try:
            reconcile_page(model, page, comment=IMPORT_COMMENT)
        except ObjectsNotInSyncError as exc:  # the rest of the page was written
            log.warning("%s", exc)
    _mark(migrator.service, index, cursor.run_start, "windows_done")
    return "done"


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
