"""`manage.py cdms_check`: is the CRM reachable, does it accept us, are the entity sets there, do clocks agree?"""

import json

from django.core.management.base import BaseCommand, CommandError

from migrator.management import tables
from migrator.ops.health import run_checks


class Command(BaseCommand):
    help = (
        "Check the CRM connection: reachability, authentication, every mapped entity set, and the clock "
        "skew between the CRM and this machine (by creating and deleting a probe record; --no-probe "
        "only checks that the newest ModifiedOn is not in the future). Exits 1 if any check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-probe", action="store_true", help="do not create and delete a probe record")
        parser.add_argument("--max-skew-seconds", type=int, default=5, help="allowed clock skew (default: 5)")
        parser.add_argument("--json", action="store_true", help="print the checks as JSON")

    def handle(self, *args, **options):
        checks = run_checks(probe=not options["no_probe"], max_skew_seconds=options["max_skew_seconds"])
        if options["json"]:
            self.stdout.write(json.dumps([vars(check) for check in checks], indent=2))
        else:
            rows = [[check.name, "ok" if check.ok else "FAIL", check.detail] for check in checks]
            for line in tables.render(["check", "result", "detail"], rows):
                self.stdout.write(line)
        failed = [check.name for check in checks if not check.ok]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}.")
        if not options["json"]:
            self.stdout.write(self.style.SUCCESS("All checks passed."))
