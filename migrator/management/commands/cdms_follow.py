"""`manage.py cdms_follow`: keep the local mirror within a stated staleness of the CRM."""

import datetime as dt
import signal
import threading
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from cdms_api.exceptions import CDMSError
from migrator.conf import cdms_settings
from migrator.management import arguments
from migrator.mirror import entities
from migrator.mirror.follower import follow
from migrator.mirror.leases import holder_name
from migrator.mirror.sweep import next_due, sweep_next
from migrator.throttle import Throttle, repeated

# After failed rounds the polls slow down, doubling up to this: a CRM or database that is down
# is asked again within a minute, not several times a second.
MAX_BACKOFF_SECONDS = 60.0
# A sweeper with nothing due looks again this often at most (a part may be re-planned meanwhile).
IDLE_SECONDS = 5.0


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
        "Key sweeps roll over partitions of each table, several at once (--sweepers) and every entity "
        "side by side. Several followers may run at once: one follows each entity at a time, all "
        "share the sweeps."
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
            "--sweep-interval",
            type=float,
            help="seconds after which a swept part is swept again (default: CDMS_SWEEP_INTERVAL)",
        )
        parser.add_argument(
            "--sweepers", type=int, help="sweep parts listed at once (default: CDMS_SWEEP_CONCURRENCY)"
        )

    def handle(self, *args, **options):
        migrators = entities.selected(options["entity"])
        interval, sweep_every = options["interval"], options["sweep_interval"]
        interval = cdms_settings.CDMS_FOLLOW_INTERVAL if interval is None else interval
        sweep_every = cdms_settings.CDMS_SWEEP_INTERVAL if sweep_every is None else sweep_every
        sweepers = options["sweepers"]
        sweepers = cdms_settings.CDMS_SWEEP_CONCURRENCY if sweepers is None else sweepers
        if interval <= 0 or sweep_every <= 0:
            raise CommandError("--interval and --sweep-interval must be positive.")
        if sweepers < 1:
            raise CommandError("--sweepers must be at least 1.")
        holder = holder_name()
        self.following = not options["sweep_only"]
        self.throttle, self.failures = Throttle(), 0
        if options["once"]:
            failed = self._round(migrators, holder, verbose=True)
            if not options["no_sweep"]:
                failed = self._sweep_once(migrators, sweepers) or failed
            if failed:
                raise CommandError("The CRM or the database failed; the next round resumes from the checkpoint.")
            return
        sweeping = "" if options["no_sweep"] else f", sweeping keys on {sweepers} threads"
        what = "Following" if self.following else "Sweeping"
        self.stdout.write(
            f"{what} {', '.join(m.service for m in migrators)} every {interval:g} s{sweeping}; Ctrl-C stops."
        )
        # Python leaves SIGINT ignored when it starts with it ignored (a background job of a
        # non-interactive shell): a follower must still stop on Ctrl-C and on a supervisor's SIGINT.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stop = threading.Event()
        try:
            if not options["no_sweep"]:
                self._start_sweepers(migrators, sweepers, sweep_every, stop)
            self._loop(migrators, holder, interval)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            stop.set()

    def _loop(self, migrators, holder, interval):
        # The sweepers run beside the polls, on their own threads: a sweep of a large table takes
        # longer than the staleness bound, and the watermarks must keep moving meanwhile.
        while True:
            started = time.monotonic()
            failed = self._round(migrators, holder, verbose=False)
            self.failures = self.failures + 1 if failed else 0
            time.sleep(max(0.0, backoff(interval, self.failures) - (time.monotonic() - started)))

    def _start_sweepers(self, migrators, count, every, stop):
        models = [migrator.model_class for migrator in migrators]
        for n in range(count):
            thread = threading.Thread(
                target=self._sweeper, args=(models, every, stop), name=f"cdms-sweep-{n}", daemon=True
            )
            thread.start()

    def _sweeper(self, models, every, stop):
        """Sweep the part listed longest ago, again and again, once it is `every` seconds old."""
        holder, failures = holder_name(), 0
        try:
            while not stop.is_set():
                try:
                    part = sweep_next(models, holder, timezone.now() - dt.timedelta(seconds=every))
                    failures = 0
                    if part is None:
                        stop.wait(min(IDLE_SECONDS, max(1.0, next_due(models, every))))
                    elif part.removed:
                        self.stdout.write(f"{part.entity}: key sweep removed {part.removed} rows.")
                except (CDMSError, DatabaseError) as exc:
                    failures += 1
                    self._sweep_failed(exc)
                    stop.wait(backoff(1.0, failures))
        finally:
            connections.close_all()

    def _sweep_once(self, migrators, count):
        """Sweep every part of every entity once, on `count` threads side by side; True if one failed."""
        models = [migrator.model_class for migrator in migrators]
        round_start, removed, failures, counting = timezone.now(), Counter(), [], threading.Lock()

        def work(own_thread):
            holder = holder_name()
            try:
                while (part := sweep_next(models, holder, round_start)) is not None:
                    with counting:
                        removed[part.entity] += part.removed
            except (CDMSError, DatabaseError) as exc:
                failures.append(exc)
                self._sweep_failed(exc)
            finally:
                if own_thread:
                    connections.close_all()

        threads = [threading.Thread(target=work, args=(True,), name=f"cdms-sweep-{n}") for n in range(1, count)]
        for thread in threads:
            thread.start()
        work(own_thread=False)  # this thread is one of the sweepers
        for thread in threads:
            thread.join()
        for migrator in migrators:
            self.stdout.write(f"{migrator.service}: key sweep removed {removed[migrator.service]} rows.")
        return bool(failures)

    def _sweep_failed(self, exc):
        who = "the CRM" if isinstance(exc, CDMSError) else "the database"
        if isinstance(exc, DatabaseError):
            close_old_connections()
        self._failed(getattr(exc, "cdms_entity", "sweep"), "sweeping keys", who, exc)

    def _round(self, migrators, holder, verbose):
        """Follow every entity once; True if the CRM or the database failed."""
        failed = False
        for migrator in migrators if self.following else ():
            try:
                result = follow(migrator.model_class, holder)  # records its own failure on the watermark
                if verbose:
                    self._report_follow(result)
            except CDMSError as exc:
                failed = self._failed(migrator.service, "following changes", "the CRM", exc)
            except DatabaseError as exc:
                failed = self._failed(migrator.service, "following changes", "the database", exc)
                close_old_connections()
        return failed

    def _failed(self, entity, what, who, exc):
        held = self.throttle.admit((entity, what, type(exc).__name__))
        if held is not None:
            self.stderr.write(
                f"{timezone.now():%H:%M:%S} {entity}: {who} failed while {what}: {_first_line(exc)}"
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
