"""`manage.py cdms_import`: copy CRM entity sets into the local database, fully or incrementally."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cdms_api.exceptions import CDMSError
from migrator.management import arguments, tables
from migrator.management.broker import broker_answers, shown
from migrator.mirror import entities
from migrator.mirror.importer import EntityImport, WorkersStalledError
from migrator.mirror.state import ImportCursor
from migrator.mirror.tasks import import_window


class Command(BaseCommand):
    help = (
        "Copy CRM records into the local database, parents before children (Account, then Contact). "
        "--full copies everything; --incremental (the default once an entity was imported) copies what "
        "changed since the last run, less a lookback window. Pages are fetched concurrently over "
        "ModifiedOn windows; an interrupted run (Ctrl-C, crash, CRM failure) resumes where it stopped."
    )

    def add_arguments(self, parser):
        arguments.add_entity(parser)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--full", action="store_true", help="copy every record")
        mode.add_argument("--incremental", action="store_true", help="copy changes since the last run (default)")
        parser.add_argument(
            "--lookback-minutes",
            type=int,
            default=10,
            help="re-read changes this far before the cursor, for late CRM commits (default: 10)",
        )
        parser.add_argument("--workers", type=int, default=4, help="concurrent CRM requests (default: 4)")
        parser.add_argument("--restart", action="store_true", help="drop an unfinished run instead of resuming it")
        arguments.add_no_progress(parser)
        parser.add_argument(
            "--celery",
            action="store_true",
            help="hand each window to a Celery worker (CELERY_BROKER_URL) and wait for them all",
        )
        parser.add_argument(
            "--worker-wait",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="with --celery: stop, saying so, when no worker has taken a window this long (default: 30)",
        )
        parser.add_argument(
            "--progress-every",
            type=float,
            default=5.0,
            metavar="SECONDS",
            help="when the output is not a terminal, a progress line this often (default: 5)",
        )

    def handle(self, *args, **options):
        migrators = entities.selected(options["entity"])
        if options["celery"]:
            self._check_broker()
        if options["workers"] < 1 or options["lookback_minutes"] < 0:
            raise CommandError("--workers must be at least 1 and --lookback-minutes at least 0.")
        if options["worker_wait"] <= 0 or options["progress_every"] < 0:
            raise CommandError("--worker-wait must be positive and --progress-every at least 0.")
        if options["restart"]:
            ImportCursor.objects.filter(entity__in=[m.service for m in migrators]).update(
                run_start=None, run_end=None, run_windows=0, windows_done=[], windows_taken=[],
                run_planned_at=None, run_lists_every_key=False,
            )  # fmt: skip
        results = []
        for migrator in migrators:
            results.append(self._import(migrator, options))
        self._summary(results)

    def _check_broker(self):
        url = import_window.app.conf.broker_url
        if not broker_answers(url):
            raise CommandError(
                f"--celery: no Celery broker answers at {shown(url)} (CELERY_BROKER_URL). Start it and some "
                "workers (celery -A settings.celery worker), or import without --celery."
            )

    def _import(self, migrator, options):
        job = EntityImport(
            migrator.model_class,
            full=options["full"],
            lookback_minutes=options["lookback_minutes"],
            workers=options["workers"],
            show_progress=not options["no_progress"],
            progress_lines=self._progress_lines(options),
            progress_every=options["progress_every"],
        )
        try:
            if options["celery"]:
                queue = lambda entity, index: import_window.delay(entity, index)  # noqa: E731
                return job.run_on_workers(queue, take_seconds=options["worker_wait"])
            return job.run()
        except KeyboardInterrupt:
            raise CommandError(
                f"{migrator.service}: interrupted; run the command again to resume.", returncode=130
            )
        except WorkersStalledError as exc:
            raise CommandError(str(exc))
        except CDMSError as exc:
            raise CommandError(f"{migrator.service}: the CRM failed ({exc}); run the command again to resume.")

    def _progress_lines(self, options):
        """Where progress lines go: standard output when it is not a terminal (a bar shows on one)."""
        if options["no_progress"] or self.stdout.isatty():
            return None
        return lambda line: self.stdout.write(f"{timezone.now():%H:%M:%S} {line}")

    def _summary(self, results):
        headers = [
            "entity",
            "mode",
            "rows",
            "new",
            "pages",
            "windows",
            "resumed",
            "conflicts",
            "seconds",
            "rows/s",
        ]
        rows = [
            [r.entity, r.mode, r.rows, r.new_rows, r.pages, r.windows, r.windows_resumed, len(r.conflicts),
             round(r.seconds, 1), round(r.rate)]
            for r in results
        ]  # fmt: skip
        for line in tables.render(headers, rows):
            self.stdout.write(line)
        for result in results:
            if result.conflicts:
                self.stdout.write(
                    self.style.WARNING(
                        f"{result.entity}: {len(result.conflicts)} local rows are newer than the CRM and were "
                        f"left alone (see cdms_reconcile): {', '.join(result.conflicts[:10])}"
                    )
                )
        self.stdout.write(self.style.SUCCESS(f"Imported {sum(r.rows for r in results)} rows."))
