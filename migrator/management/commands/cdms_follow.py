"""`manage.py cdms_follow`: keep the local mirror within a stated staleness of the CRM."""

import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from cdms_api.exceptions import CDMSError
from migrator.conf import cdms_settings
from migrator.management import arguments
from migrator.mirror import entities
from migrator.mirror.follower import follow
from migrator.mirror.leases import holder_name
from migrator.mirror.state import Watermark
from migrator.mirror.sweep import sweep
from migrator.throttle import Throttle, repeated

# After failed rounds the polls slow down, doubling up to this: a CRM or database that is down
# is asked again within a minute, not several times a second.
MAX_BACKOFF_SECONDS = 60.0


def backoff(interval, failures):
    """Seconds until the next poll after `failures` failed rounds in a row."""
    return min(interval * 2**failures, max(interval, MAX_BACKOFF_SECONDS))


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class Command(BaseCommand):
    help = (
        "Follow the CRM's changes into the local database (parents before children) and sweep its "
        "keys for deletions, publishing a watermark per entity that bounded reads rely on. Runs until "
        "stopped; --once does one full round (every change since the cursor, then a key sweep). "
        "Several followers may run at once: one follows each entity at a time, all share the sweeps."
    )

    def add_arguments(self, parser):
        arguments.add_entity(parser)
        parser.add_argument(
            "--once", action="store_true", help="one round of changes and one key sweep, then exit"
        )
        parser.add_argument("--no-sweep", action="store_true", help="follow changes only")
        parser.add_argument(
            "--sweep-only", action="store_true", help="join or start key sweeps only (several processes share one)"
        )
        parser.add_argument("--interval", type=float, help="seconds between polls (default: CDMS_FOLLOW_INTERVAL)")
        parser.add_argument(
            "--sweep-interval", type=float, help="seconds between key sweeps (default: CDMS_SWEEP_INTERVAL)"
        )

    def handle(self, *args, **options):
        migrators = entities.selected(options["entity"])
        interval, sweep_every = options["interval"], options["sweep_interval"]
        interval = cdms_settings.CDMS_FOLLOW_INTERVAL if interval is None else interval
        sweep_every = cdms_settings.CDMS_SWEEP_INTERVAL if sweep_every is None else sweep_every
        if interval <= 0 or sweep_every <= 0:
            raise CommandError("--interval and --sweep-interval must be positive.")
        holder = holder_name()
        self.following = not options["sweep_only"]
        self.throttle, self.failures = Throttle(), 0
        if options["once"]:
            failed = self._round(migrators, holder, verbose=True)
            if not options["no_sweep"]:
                failed = self._sweeps(migrators, holder, verbose=True) or failed
            if failed:
                raise CommandError("The CRM or the database failed; the next round resumes from the checkpoint.")
            return
        self.stdout.write(
            f"Following {', '.join(m.service for m in migrators)} every {interval:g} s; Ctrl-C stops."
        )
        try:
            self._loop(migrators, holder, interval, sweep_every, not options["no_sweep"])
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _loop(self, migrators, holder, interval, sweep_every, sweeping):
        # Sweeps run beside the polls, on their own thread: a sweep of a large table takes
        # longer than the staleness bound, and the watermarks must keep moving meanwhile.
        sweeper, last_sweep = None, None
        while True:
            started = time.monotonic()
            due = last_sweep is None or started - last_sweep >= sweep_every
            if sweeping and due and (sweeper is None or not sweeper.is_alive()):
                sweeper = threading.Thread(target=self._sweep_thread, args=(migrators,), daemon=True)
                sweeper.start()
                last_sweep = started
            failed = self._round(migrators, holder, verbose=False)
            self.failures = self.failures + 1 if failed else 0
            time.sleep(max(0.0, backoff(interval, self.failures) - (time.monotonic() - started)))

    def _sweep_thread(self, migrators):
        try:
            self._sweeps(migrators, holder_name(), verbose=False)
        finally:
            connections.close_all()

    def _round(self, migrators, holder, verbose):
        """Follow every entity once; True if the CRM or the database failed."""
        failed = False
        for migrator in migrators if self.following else ():
            try:
                result = follow(migrator.model_class, holder)  # records its own failure on the watermark
                if verbose:
                    self._report_follow(result)
            except CDMSError as exc:
                failed = self._failed(migrator, "following changes", "the CRM", exc)
            except DatabaseError as exc:
                failed = self._failed(migrator, "following changes", "the database", exc)
                close_old_connections()
        return failed

    def _sweeps(self, migrators, holder, verbose):
        """Sweep every entity's keys once; True if the CRM failed."""
        failed = False
        for migrator in migrators:
            try:
                removed = sweep(migrator.model_class, holder)
                if verbose or removed:
                    self.stdout.write(f"{migrator.service}: key sweep removed {removed} rows.")
            except CDMSError as exc:
                Watermark.objects.filter(entity=migrator.service).update(last_sweep_error=str(exc)[:2000])
                failed = self._failed(migrator, "sweeping keys", "the CRM", exc)
            except DatabaseError as exc:
                failed = self._failed(migrator, "sweeping keys", "the database", exc)
                close_old_connections()
        return failed

    def _failed(self, migrator, what, who, exc):
        held = self.throttle.admit((migrator.service, what, type(exc).__name__))
        if held is not None:
            self.stderr.write(
                f"{timezone.now():%H:%M:%S} {migrator.service}: {who} failed while {what}: {_first_line(exc)}"
                f"{repeated(held)}"
            )
        return True

    def _report_follow(self, result):
        if not result.leased:
            self.stdout.write(f"{result.entity}: another follower holds the lease; skipped.")
            return
        self.stdout.write(
            f"{result.entity}: applied {result.rows} changed rows in {result.pages} pages; "
            f"watermark {result.watermark:%Y-%m-%d %H:%M:%S} UTC."
            + (f" {len(result.conflicts)} local rows are newer than the CRM." if result.conflicts else "")
        )
