"""Copying one CRM entity into the local database: concurrent window walks, writes on one thread.

The run's ModifiedOn range is split into time windows (`windows`); worker threads, each with
its own CRM client, walk one window at a time and hand its pages to the main thread through
a bounded queue. The main thread alone writes to the database, one `reconcile_page` per
page (a monotonic bulk upsert, so a page seen twice is harmless), and marks a window done in
the `ImportCursor` once all its pages are written, in the same transaction as its last pages
(a few pages are committed together). A run interrupted by Ctrl-C or a crash
therefore resumes with the windows not yet done, and a finished run moves the cursor to its
end, from which the next incremental run starts (less the lookback, to catch changes the
CRM committed late: at least once, deduplicated by key).

A finished run also publishes the entity's change watermark: every change the CRM committed
before the run was planned (this machine's clock, just before its first request) lies in its
windows. A full run into a mirror that held none of the entity's records lists every key that
existed then, so it publishes the delete watermark as well; bounded reads need not wait for a
first key sweep after a first import.
"""

import datetime as dt
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cdms_api.odata import parse_date
from migrator import fetch
from migrator.cdms_migrator import get_migrator
from migrator.conf import cdms_settings
from migrator.connection import get_client
from migrator.exceptions import ObjectsNotInSyncError
from migrator.instruments import sync_source
from migrator.mirror.reconcile import reconcile_page
from migrator.mirror.state import ImportCursor, Watermark

from . import progress, windows

IMPORT_COMMENT = "CDMS import"
WINDOWS_PER_WORKER = 4
QUEUED_PAGES_PER_WORKER = 4
PAGES_PER_COMMIT = 20
COMMIT_SECONDS = 2.0
_END = object()


class WorkersStalledError(RuntimeError):
    """No worker finished an import window for too long."""


@dataclass
class ImportResult:
    """What one entity's import did."""

    entity: str
    mode: str
    rows: int = 0
    pages: int = 0
    new_rows: int = 0
    windows: int = 0
    windows_resumed: int = 0
    seconds: float = 0.0
    conflicts: list = field(default_factory=list)

    @property
    def rate(self):
        """Rows per second."""
        return self.rows / self.seconds if self.seconds else 0.0


class EntityImport:
    """One import run of one CRM entity."""

    def __init__(
        self, model, *, full=False, lookback_minutes=10, workers=4, show_progress=True, progress_lines=None,
        progress_every=5.0,
    ):  # fmt: skip
        self.model = model
        self.migrator = get_migrator(model)
        self.full = full
        self.lookback = dt.timedelta(minutes=lookback_minutes)
        self.workers = max(1, workers)
        self.show_progress = show_progress
        # `progress_lines` (a function taking a line) gets a progress line every `progress_every` s.
        self.progress_lines, self.progress_every = progress_lines, progress_every

    def _lines(self):
        if self.progress_lines is None:
            return progress.Quiet()
        return progress.RowsLog(self.migrator.service, self.progress_lines, self.progress_every)

    @sync_source("import")
    def run(self):
        """Import (or resume importing) the entity; returns an ImportResult."""
        started = time.monotonic()
        before = self.model._base_manager.count()
        cursor, mode = self._plan()
        result = ImportResult(self.migrator.service, mode)
        if cursor is not None:
            all_windows = windows.split(cursor.run_start, cursor.run_end, cursor.run_windows)
            todo = [w for w in all_windows if w.index not in cursor.windows_done]
            result.windows, result.windows_resumed = len(all_windows), len(all_windows) - len(todo)
            self._walk_all(cursor, todo, result)
            self._finish(cursor)
        result.new_rows = self.model._base_manager.count() - before
        result.seconds = time.monotonic() - started
        return result

    def run_on_workers(self, queue_window, poll_seconds=0.5, stall_seconds=600, take_seconds=30):
        """Like `run`, but each window is handed to `queue_window(entity, index)` (a Celery task).

        Waits until the workers have marked every window done, then finishes the run. If no
        worker has taken a window within `take_seconds` (no worker running, or none on this
        queue), or no window finishes for `stall_seconds` (the CRM down), raises
        WorkersStalledError; the run stays planned, and the next one resumes it.
        """
        started = time.monotonic()
        before = self.model._base_manager.count()
        cursor, resumed = self._plan()
        result = ImportResult(
            self.migrator.service, "resumed" if resumed else ("full" if self.full else "incremental")
        )
        if cursor is not None:
            all_windows = windows.split(cursor.run_start, cursor.run_end, cursor.run_windows)
            todo = [w.index for w in all_windows if w.index not in cursor.windows_done]
            result.windows, result.windows_resumed = len(all_windows), len(all_windows) - len(todo)
            for index in todo:
                queue_window(self.migrator.service, index)
            lines = self._lines()
            self._wait_for_workers(cursor, todo, before, lines, (poll_seconds, stall_seconds, take_seconds))
            self._finish(cursor)
            lines.finish()
        result.new_rows = self.model._base_manager.count() - before
        result.rows = result.new_rows
        result.seconds = time.monotonic() - started
        return result

    def _wait_for_workers(self, cursor, todo, before, lines, waits):
        poll_seconds, stall_seconds, take_seconds = waits
        left = set(todo)
        progress_at = asked_at = time.monotonic()
        while left:
            time.sleep(poll_seconds)
            cursor.refresh_from_db()
            lines.parts_progress(cursor.run_windows - len(left), cursor.run_windows)
            lines.advance_to(self.model._base_manager.count() - before)
            if not set(cursor.windows_taken) & left and time.monotonic() - asked_at > take_seconds:
                raise WorkersStalledError(
                    f"{self.migrator.service}: no Celery worker has taken any of {len(left)} import windows in "
                    f"{take_seconds:g} s; start workers on queue {_queue()!r} (celery -A settings.celery "
                    "worker), or import without --celery. Run the command again to resume."
                )
            if left - set(cursor.windows_done) != left:
                left -= set(cursor.windows_done)
                progress_at = time.monotonic()
            elif time.monotonic() - progress_at > stall_seconds:
                raise WorkersStalledError(
                    f"{self.migrator.service}: no import window finished in {stall_seconds:g} s "
                    f"({len(left)} left); are Celery workers running? Run the command again to resume."
                )

    # -- planning ---------------------------------------------------------------------------
    def _plan(self):
        """(cursor with a run to do, or None when there is nothing to do; "resumed", "full" or "incremental").

        A first import (no cursor yet) is a full one, whatever the options say.
        """
        cursor, _ = ImportCursor.objects.get_or_create(entity=self.migrator.service)
        if cursor.run_in_progress:
            return cursor, "resumed"
        mode = "full" if self.full or cursor.imported_until is None else "incremental"
        planned_at = timezone.now()  # this machine's clock, just before the run's first request
        newest = self._edge("desc")
        if newest is None:
            return None, mode
        end = newest + dt.timedelta(seconds=1)
        if mode == "full":
            start = self._edge("asc")
        else:
            start = windows.whole_second(cursor.imported_until - self.lookback)
        if start >= end:
            return None, mode
        cursor.run_start, cursor.run_end = start, end
        cursor.run_windows, cursor.windows_done, cursor.windows_taken = self.workers * WINDOWS_PER_WORKER, [], []
        cursor.run_planned_at = planned_at
        cursor.run_lists_every_key = mode == "full" and not self.model._base_manager.exclude(cdms_pk=None).exists()
        cursor.save()
        return cursor, mode

    def _edge(self, direction):
        """The oldest (`asc`) or newest (`desc`) ModifiedOn in the CRM, or None if it is empty."""
        select = [self.migrator.key_attribute, "ModifiedOn"]
        pages = get_client().list(self.migrator.service, orderby=[f"ModifiedOn {direction}"], top=1, select=select)
        page = next(iter(pages), [])
        return parse_date(page[0]["ModifiedOn"]) if page else None

    def _finish(self, cursor):
        if cursor.imported_until is None or cursor.imported_until < cursor.run_end:
            cursor.imported_until = cursor.run_end
        with transaction.atomic():
            publish_watermarks(self.migrator.service, cursor.run_planned_at, cursor.run_lists_every_key)
            cursor.run_start = cursor.run_end = cursor.run_planned_at = None
            cursor.run_windows, cursor.windows_done, cursor.windows_taken = 0, [], []
            cursor.run_lists_every_key = False
            cursor.save()

    # -- walking ----------------------------------------------------------------------------
    def _walk_all(self, cursor, todo, result):
        stop = threading.Event()
        pages = queue.Queue(maxsize=self.workers * QUEUED_PAGES_PER_WORKER)
        bar = progress.rows_bar(f"{self.migrator.service:<8}", enabled=self.show_progress)
        self.lines = self._lines()
        with bar, ThreadPoolExecutor(self.workers, thread_name_prefix="cdms-import") as pool:
            futures = [pool.submit(self._walk, window, pages, stop) for window in todo]
            try:
                self._consume(cursor, todo, pages, bar, result)
            finally:
                stop.set()
                for future in futures:
                    future.cancel()
        self.lines.finish()

    def _walk(self, window, pages, stop):
        """Worker thread: put every page of one window on the queue, then an end marker."""
        if stop.is_set():
            return
        try:
            for page in fetch.window_pages(self.migrator, window):
                if not _put(pages, (window.index, page), stop):
                    return
            _put(pages, (window.index, _END), stop)
        except BaseException as exc:  # handed to the main thread, which raises it
            _put(pages, (window.index, exc), stop)

    def _consume(self, cursor, todo, pages, bar, result):
        remaining = {window.index for window in todo}
        while remaining:
            # Several pages a transaction: one commit (an fsync) per page would bound the rate.
            with transaction.atomic():
                self._consume_batch(cursor, len(todo), remaining, pages, bar, result)

    def _consume_batch(self, cursor, windows_total, remaining, pages, bar, result):
        deadline = time.monotonic() + COMMIT_SECONDS
        written = 0
        while remaining and written < PAGES_PER_COMMIT and time.monotonic() < deadline:
            try:
                index, item = pages.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is _END:
                remaining.discard(index)
                cursor.windows_done = [*cursor.windows_done, index]
                cursor.save(update_fields=["windows_done", "updated"])
                progress.estimate_total(bar, windows_total - len(remaining), windows_total)
                self.lines.parts_progress(windows_total - len(remaining), windows_total)
            elif isinstance(item, BaseException):
                raise item
            else:
                self._write(item, result)
                bar.update(len(item))
                self.lines.update(len(item))
                written += 1

    def _write(self, page, result):
        result.pages += 1
        result.rows += len(page)
        try:
            reconcile_page(self.model, page, comment=IMPORT_COMMENT)
        except ObjectsNotInSyncError as exc:  # the rest of the page was written
            result.conflicts.extend(exc.keys)


def publish_watermarks(entity, planned_at, every_key):
    """Move the entity's change watermark (and, if `every_key`, its delete watermark) up to a run's plan."""
    if planned_at is None:
        return
    Watermark.objects.get_or_create(entity=entity)
    rows = Watermark.objects.filter(entity=entity)
    rows.filter(Q(changes_until=None) | Q(changes_until__lt=planned_at)).update(changes_until=planned_at)
    if every_key:
        moment = planned_at - dt.timedelta(seconds=cdms_settings.CDMS_FOLLOW_OVERLAP)
        rows.filter(Q(deletions_until=None) | Q(deletions_until__lt=moment)).update(deletions_until=moment)


def _queue():
    return getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")


def _put(pages, item, stop):
    """Queue an item unless the run is stopping; False if it stopped."""
    while not stop.is_set():
        try:
            pages.put(item, timeout=0.5)
            return True
        except queue.Full:
            continue
    return False
