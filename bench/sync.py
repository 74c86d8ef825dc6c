"""Sync-layer benchmark: CRM requests per ORM operation, refresh throughput, SQL per page.

Run: .venv/bin/python bench/sync.py
It starts an in-process emulator, uses a throw-away SQLite database, and prints three
tables. Request counts are exact; rates depend on the machine.
"""

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "settings.test"
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from cdms_api.counting import count_requests  # noqa: E402
from cdms_api.emulator import Emulator  # noqa: E402
from contact.models import Contact  # noqa: E402
from organisation.models import Organisation  # noqa: E402

# What the 2016 prototype cost, as its own documentation describes it.
PROTOTYPE = {
    "get(pk=...)": "1 (+ local)",
    "create()": "1",
    "save() of a change": "2 (GET, MERGE)",
    "delete()": "1",
    "filter() matching 120 rows": "1, but synced only 50",
    "order_by()[:5]": "1, but synced only 50",
    "50 contacts, parents unknown": "51 (one per parent)",
    "... with select_related": "51 (one per parent)",
    "count()": "unsupported",
    "exists()": "unsupported",
    "aggregate(Max)": "unsupported",
    "bulk_create(20)": "unsupported",
    "filter().update() of 20": "unsupported",
    "filter().delete() of 20": "unsupported",
}


def reset(emu):
    emu.reset()
    Contact.objects.skip_cdms().all().delete()
    Organisation.objects.skip_cdms().all().delete()


def seed(emu, n, **attrs):
    keys = [str(uuid.uuid4()) for _ in range(n)]
    for i, key in enumerate(keys):
        emu.store.insert("Account", {"AccountId": key, "Name": f"Firm {i}", "NumberOfEmployees": i, **attrs})
    return keys


def requests_for(emu, label, prepare, operation):
    reset(emu)
    state = prepare()
    with count_requests() as counter:
        operation(state)
    return label, counter.count


def operations(emu):
    def one_local():
        return Organisation.objects.get(cdms_pk=seed(emu, 1)[0])

    def contacts():
        for i, key in enumerate(seed(emu, 50)):
            contact = {"ContactId": str(uuid.uuid4()), "LastName": f"P{i}"}
            emu.store.insert("Contact", {**contact, "ParentCustomerId": {"Id": key, "LogicalName": "account"}})

    def changed(org):
        org.city = "York"
        org.save()

    def twenty():
        seed(emu, 20, Address1_City="Leeds")
        list(Organisation.objects.all())

    return [
        ("get(pk=...)", one_local, lambda org: Organisation.objects.get(pk=org.pk)),
        ("create()", lambda: None, lambda _: Organisation.objects.create(name="New")),
        ("save() of a change", one_local, changed),
        ("delete()", one_local, lambda org: org.delete()),
        (
            "filter() matching 120 rows",
            lambda: seed(emu, 120),
            lambda _: list(Organisation.objects.filter(name__startswith="Firm")),
        ),
        (
            "order_by()[:5]",
            lambda: seed(emu, 120),
            lambda _: list(Organisation.objects.order_by("number_of_employees")[:5]),
        ),
        ("50 contacts, parents unknown", contacts, lambda _: list(Contact.objects.all())),
        ("... with select_related", contacts, lambda _: list(Contact.objects.select_related("organisation"))),
        ("count()", lambda: seed(emu, 30), lambda _: Organisation.objects.count()),
        (
            "exists()",
            lambda: seed(emu, 30),
            lambda _: Organisation.objects.filter(number_of_employees__gt=3).exists(),
        ),
        (
            "aggregate(Max)",
            lambda: seed(emu, 30),
            lambda _: Organisation.objects.aggregate(Max("number_of_employees")),
        ),
        (
            "bulk_create(20)",
            lambda: None,
            lambda _: Organisation.objects.bulk_create([Organisation(name=f"B{i}") for i in range(20)]),
        ),
        (
            "filter().update() of 20",
            twenty,
            lambda _: Organisation.objects.filter(city="Leeds").update(city="Hull"),
        ),
        ("filter().delete() of 20", twenty, lambda _: Organisation.objects.filter(city="Leeds").delete()),
    ]


def refresh_rate(emu, latency_ms, rows=10_000):
    reset(emu)
    seed(emu, rows)
    emu.latency_ms = latency_ms
    with override_settings(CDMS_SYNC_MAX_ROWS=rows + 1), count_requests() as counter:
        started = time.perf_counter()
        fetched = len(Organisation.objects.all())
        seconds = time.perf_counter() - started
    emu.latency_ms = 0
    return fetched, counter.count, seconds


def statements_per_page(emu, rows):
    reset(emu)
    seed(emu, rows)
    with CaptureQueriesContext(connection) as ctx:
        list(Organisation.objects.all())
    return len(ctx.captured_queries)


def main():
    call_command("migrate", verbosity=0)
    emu = Emulator().start()
    try:
        with override_settings(CDMS_BASE_URL=emu.base_url):
            print("CRM requests per ORM operation")
            print(f"  {'operation':32} {'now':>5}   2016 prototype")
            for label, prepare, operation in operations(emu):
                _, count = requests_for(emu, label, prepare, operation)
                print(f"  {label:32} {count:>5}   {PROTOTYPE[label]}")
            print("\nRefreshing 10,000 CRM rows into an empty local table")
            print(
                f"  {'latency':>8} {'requests':>9} {'seconds':>8} {'rows/s':>8} {'floor s (pages x latency)':>26}"
            )
            for latency in (0, 20):
                fetched, requests, seconds = refresh_rate(emu, latency)
                floor = requests * latency / 1000
                print(f"  {latency:>6}ms {requests:>9} {seconds:>8.2f} {fetched / seconds:>8.0f} {floor:>26.2f}")
            print("\nSQL statements for one synced read, by rows refreshed")
            for rows in (5, 50):
                print(f"  {rows:>3} rows: {statements_per_page(emu, rows)} statements")
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
