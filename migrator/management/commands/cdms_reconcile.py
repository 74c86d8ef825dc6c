"""`manage.py cdms_reconcile`: report (and with --fix, repair) drift between local rows and the CRM."""

import json

from django.core.management.base import BaseCommand, CommandError

from cdms_api.exceptions import CDMSError
from migrator.management import arguments, tables
from migrator.mirror import entities
from migrator.ops.comparison import compare, repair

SHOWN_KEYS = 10


class Command(BaseCommand):
    help = (
        "Compare local rows with the CRM by key and ModifiedOn: rows missing on either side, stale local "
        "rows, local rows newer than the CRM. --fix imports missing and stale rows and removes locally "
        "the rows deleted in the CRM; local-newer rows are listed for a person to resolve."
    )

    def add_arguments(self, parser):
        arguments.add_entity(parser)
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--fix", action="store_true", help="repair what can be repaired safely")

    def handle(self, *args, **options):
        migrators = entities.selected(options["entity"])
        try:
            drifts = [compare(migrator) for migrator in migrators]
            repairs = [repair(m, d) for m, d in zip(migrators, drifts, strict=True)] if options["fix"] else []
        except CDMSError as exc:
            raise CommandError(f"The CRM failed: {exc}")
        if options["json"]:
            report = {"entities": [drift.as_dict() for drift in drifts]}
            if options["fix"]:
                report["repairs"] = [vars(done) for done in repairs]
            self.stdout.write(json.dumps(report, indent=2))
            return
        self._table(drifts)
        if options["fix"]:
            self._repairs(repairs)
        elif not all(drift.in_sync for drift in drifts):
            self.stdout.write("Run with --fix to repair what can be repaired safely.")

    def _table(self, drifts):
        headers = [
            "entity",
            "crm",
            "local",
            "missing locally",
            "missing in crm",
            "stale",
            "local newer",
            "local only",
        ]
        rows = [
            [d.entity, d.crm_rows, d.local_rows, len(d.missing_locally), len(d.missing_in_crm), len(d.stale),
             len(d.local_newer), d.local_only]
            for d in drifts
        ]  # fmt: skip
        for line in tables.render(headers, rows):
            self.stdout.write(line)
        for drift in drifts:
            for bucket in ("missing_locally", "missing_in_crm", "stale", "local_newer"):
                keys = getattr(drift, bucket)
                if keys:
                    more = f" (+{len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else ""
                    label = bucket.replace("_", " ")
                    self.stdout.write(f"{drift.entity} {label}: {', '.join(keys[:SHOWN_KEYS])}{more}")
        if all(drift.in_sync for drift in drifts):
            self.stdout.write(self.style.SUCCESS("In sync."))

    def _repairs(self, repairs):
        for done in repairs:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{done.entity}: imported {done.imported}, refreshed {done.refreshed}, removed {done.removed}."
                )
            )
            if done.left:
                self.stdout.write(
                    self.style.WARNING(
                        f"{done.entity}: {len(done.left)} local rows are newer than the CRM and were left alone "
                        f"(a write bypassed the CRM; save them again through the ORM or discard the local "
                        f"change): {', '.join(done.left)}"
                    )
                )
