"""Reconcile benchmark: CPU time of `reconcile_page` for a page of 50 new rows.

Run: .venv/bin/python bench/reconcile.py [PAGES]
It uses `DATABASE_URL` (rows are added to it), else a throw-away SQLite database, and no CRM
(the records are made here), writes PAGES pages (default 20) seven times, and prints the best
and the median CPU time per page (process time: the commit's wait for the disk is not counted;
with PostgreSQL, the server's own CPU is not counted either). Figures depend on the machine.
"""

import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "settings.test"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")

import django  # noqa: E402

django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402

from cdms_api import odata  # noqa: E402
from migrator.mirror.reconcile import reconcile_page  # noqa: E402
from organisation.models import Organisation  # noqa: E402

ROUNDS = 7


def page():
    """50 new Account records with every mapped attribute set."""
    stamp = odata.format_date(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    return [
        {
            "AccountId": str(uuid.uuid4()),
            "Name": f"Firm {i}",
            "optevia_Alias": "Firm",
            "optevia_ukorganisation": True,
            "EMailAddress1": "firm@example.com",
            "Address1_City": "Leeds",
            "Address1_PostalCode": "LS1 1AA",
            "NumberOfEmployees": i,
            "optevia_LastVerified": stamp,
            "CreatedOn": stamp,
            "ModifiedOn": stamp,
            "VersionNumber": i + 1,
        }
        for i in range(50)
    ]


def main(pages):
    call_command("migrate", verbosity=0)
    ContentType.objects.get_for_model(Organisation)  # warm, as in a running process
    for _ in range(5):
        reconcile_page(Organisation, page())
    times = []
    for _ in range(ROUNDS):
        batch = [page() for _ in range(pages)]
        started = time.process_time()
        for records in batch:
            reconcile_page(Organisation, records)
        times.append((time.process_time() - started) / pages * 1000)
    times.sort()
    print(
        f"reconcile_page, a page of 50 new rows: best {times[0]:.1f} ms, "
        f"median {times[ROUNDS // 2]:.1f} ms CPU ({pages} pages x {ROUNDS} rounds)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
