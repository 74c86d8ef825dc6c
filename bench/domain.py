"""Domain benchmark: an import of the 2016 domain at real width, and a list page of every endpoint.

Run: .venv/bin/python bench/domain.py [--accounts 100000] [--contacts-per-account 3]
         [--interactions-per-account 3] [--latency-ms 200] [--database-url URL] [--workers 4]
         [--crm-data FILE] [--steps import,pages]

The CRM's data file is built first (demo seeding of every list, teams, advisers, `--accounts`
companies, about `--contacts-per-account` contacts and `--interactions-per-account` interactions
each, at the real CDMS's width), then served by the emulator in its own process.

1. Import: `manage.py cdms_import --full` of every entity (lists, teams and advisers first) at
   0 ms CRM latency into a fresh database (`--database-url`, else `DATABASE_URL`, else a SQLite
   file), then one follower round and key sweep (`cdms_follow --once`); times and rows per entity.
2. Pages: the emulator restarted at `--latency-ms`; with CDMS_MAX_STALENESS=60 and fresh
   watermarks, page 1 of every list endpoint is requested twice: the first view (every vouch
   dropped before it, so no row of it was shown earlier) and the repeat. For each, the CRM
   requests, the SQL statements and the server time (the view and the sync layer, in-process
   through Django's test client: no HTTP hop).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import Emulator, Site, load_of_machine  # noqa: E402
from cdms_api.emulator.seed import seed_demo  # noqa: E402
from cdms_api.emulator.store import Store  # noqa: E402

BOUND = "60"
LISTS = [
    "sector", "country", "uk-region", "business-type", "employee-range", "turnover-range", "title",
    "contact-role", "interaction-type", "service", "service-delivery-status", "team",
]  # fmt: skip
ENDPOINTS = ["organisations", "contacts", "interactions", "advisers", *(f"metadata/{name}" for name in LISTS)]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contacts-per-account", type=int, default=3)
    parser.add_argument("--interactions-per-account", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--workers", type=int, default=4, help="cdms_import --workers")
    parser.add_argument(
        "--steps", default="import,pages", help="import, pages or both; pages alone reuses --database-url as it is"
    )
    parser.add_argument(
        "--crm-data", type=Path, help="the CRM's data file: used as it is if it exists, else seeded and kept"
    )
    return parser.parse_args()


def build_crm(path, args):
    """Seed the CRM's data file; returns {entity: rows}."""
    started = time.monotonic()
    store = Store(str(path))
    seed_demo(
        store,
        args.accounts,
        contacts_per_account=args.contacts_per_account,
        interactions_per_account=args.interactions_per_account,
    )
    counts = {entity.name: store.count(entity.name) for entity in store.schema}
    store.close()
    print(f"CRM data: {sum(counts.values()):,} records in {time.monotonic() - started:.0f} s: " + _counts(counts))
    return counts


def _counts(counts):
    main = ("Account", "Contact", "detica_interaction", "SystemUser", "BusinessUnit")
    lists = sum(n for name, n in counts.items() if name not in main)
    return ", ".join(f"{name} {counts.get(name, 0):,}" for name in main) + f", list entries {lists:,}"


PAGES_SCRIPT = """
import json, time
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from cdms_api.counting import count_requests
from migrator.mirror.vouching import Vouch
user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
client = Client()
client.force_login(user)
client.get("/api/v1/organisations/?page_size=1")  # warm: URL resolver, content types, connections
for endpoint in ENDPOINTS:
    url = f"/api/v1/{endpoint}/"
    Vouch.objects.all().delete()  # a first view: no row of it vouched for by an earlier view
    for view in ("first", "repeat"):
        with count_requests() as crm, CaptureQueriesContext(connection) as sql:
            started = time.perf_counter()
            response = client.get(url)
            ms = (time.perf_counter() - started) * 1000
        rows = len(response.json().get("results", [])) if response.status_code == 200 else 0
        print(json.dumps([url, view, response.status_code, rows, crm.count, len(sql), ms]))
"""


def import_all(site, args):
    """Import every entity, then one follower round; print the figures."""
    site.fresh_database()
    started = time.monotonic()
    out = site.manage("cdms_import", "--full", "--no-progress", "--workers", str(args.workers))
    imported = time.monotonic() - started
    site.manage("cdms_follow", "--once")
    followed = time.monotonic() - started - imported
    print(f"1. import of every entity at 0 ms CRM latency, {args.workers} workers, load {load_of_machine()}")
    for line in out.splitlines():
        if line.strip():
            print(f"   {line}")
    print(f"   import: {imported:.0f} s in all; then a follower round and key sweep: {followed:.0f} s")


def pages(site, args):
    out = site.manage("shell", "-c", f"ENDPOINTS = {ENDPOINTS!r}\n{PAGES_SCRIPT}", CDMS_MAX_STALENESS=BOUND)
    print(f"2. page 1 of every list at {args.latency_ms} ms CRM latency, CDMS_MAX_STALENESS={BOUND}, "
          f"load {load_of_machine()}")  # fmt: skip
    print(f"   {'endpoint':<44} {'view':<7} status  rows  CRM requests  SQL statements  server ms")
    for line in out.strip().splitlines():
        if line.startswith("["):
            url, view, status, rows, crm, sql, ms = json.loads(line)
            print(f"   {url:<44} {view:<7} {status:>6}  {rows:>4}  {crm:>12}  {sql:>14}  {ms:9.1f}")


def main():
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-domain-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'datahub.sqlite3'}"
    print(f"database: {database_url.split('@')[-1]}; load before: {load_of_machine()}")
    data = args.crm_data or workdir / "crm.sqlite3"
    try:
        if data.exists():
            print(f"CRM data: {data} as it is")
        else:
            build_crm(data, args)
        fast = Emulator(data, 0, 0, 0)
        site = Site(database_url, fast.base_url)
        try:
            if "import" in args.steps:
                import_all(site, args)
        finally:
            fast.stop()
        if "pages" not in args.steps:
            return
        slow = Emulator(data, 0, 0, args.latency_ms)
        try:
            site.base_url = slow.base_url
            site.manage("cdms_follow", "--once", "--no-sweep")  # fresh change watermarks at the real latency
            pages(site, args)
        finally:
            slow.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
