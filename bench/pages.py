"""Page benchmark: list pages, deep pages, searches and admin changelists against a slow CRM, and 20 users.

Run: .venv/bin/python bench/pages.py [--accounts 100000] [--contacts-per-account 3]
         [--latency-ms 200] [--database-url URL] [--users 20] [--seconds 120] [--demo-rows 2000]
         [--skip-pages] [--skip-load] [--vacuum]

The database is `--database-url`, else `DATABASE_URL`, else a fresh SQLite file (it is flushed
and migrated first). The emulator runs in its own process, seeded with `--accounts` demo
organisations and their contacts; they are imported and followed once at 0 ms latency (that is
not what this bench measures), then the emulator is restarted at `--latency-ms` on the same data.

1. Pages: each view is requested twice with CDMS_MAX_STALENESS=60 and a fresh watermark: the
   first view (every vouch dropped before it, so no row of it was shown earlier) and the repeat. For each,
   the CRM requests, the SQL statements and the server time (the view and the sync layer, timed
   in-process with Django's test client: no HTTP hop).
2. Load: `--users` threads for `--seconds` against gunicorn (2 workers, 4 threads) on a
   `--demo-rows` demo, a `cdms_follow` process keeping the watermarks fresh, each user looping
   over list pages, filtered pages and retrieves; p50 and p95 of the client's time, requests a second.
"""

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVICE = "/XRMServices/2011/OrganizationData.svc"
BOUND = "60"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contacts-per-account", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--demo-rows", type=int, default=2000)
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument(
        "--vacuum", action="store_true", help="PostgreSQL: VACUUM (ANALYZE) after the import, before the pages"
    )
    return parser.parse_args()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, process, what):
    for _ in range(6000):
        if process.poll() is not None:
            raise SystemExit(f"{what} exited ({process.returncode})")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


class Emulator:
    """The emulator process on a data file, at a latency."""

    def __init__(self, data, accounts, contacts, latency):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [PYTHON, "-m", "cdms_api.emulator", "--port", str(self.port), "--data", str(data)]
        command += ["--seed-demo", str(accounts), "--seed-contacts", str(contacts), "--latency-ms", str(latency)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.base_url + SERVICE + "/", self.process, "the emulator")

    def stop(self):
        self.process.terminate()
        self.process.wait()


class Site:
    """The Django project on one database, against one emulator."""

    def __init__(self, database_url, base_url):
        self.database_url, self.base_url = database_url, base_url

    def env(self, **extra):
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="settings.test", DATABASE_URL=self.database_url)
        env.update(CDMS_BASE_URL=self.base_url, CDMS_TIMEOUT="60", LOG_LEVEL="WARNING", **extra)
        return env

    def manage(self, *command, **extra):
        result = subprocess.run(
            [PYTHON, "manage.py", *command], cwd=ROOT, env=self.env(**extra), capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def fresh_database(self):
        self.manage("migrate", "-v0")
        self.manage("flush", "--noinput")

    def mirror(self):
        """Import everything, then one follower round and key sweep (watermarks of both kinds)."""
        started = time.monotonic()
        self.manage("cdms_import", "--full", "--no-progress")
        imported = time.monotonic() - started
        self.manage("cdms_follow", "--once")
        return imported, time.monotonic() - started - imported


def load_of_machine():
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg())


# -- 1. pages -----------------------------------------------------------------------------------
PAGES_SCRIPT = """
import json, time
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from cdms_api.counting import count_requests
from migrator.mirror.vouching import Vouch
from organisation.models import Organisation
user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
client = Client()
client.force_login(user)
busy = Organisation.objects.skip_cdms().exclude(contacts=None).order_by("id").values_list("id", flat=True)[500]
views = [
    ("organisations page 1", "/api/v1/organisations/"),
    ("organisations ?page=2000", "/api/v1/organisations/?page=2000"),
    ("organisations ?ordering=-modified", "/api/v1/organisations/?ordering=-modified"),
    ("organisations ?search=leeds", "/api/v1/organisations/?search=leeds"),
    ("contacts page 1", "/api/v1/contacts/"),
    ("contacts ?page=2000", "/api/v1/contacts/?page=2000"),
    ("contacts ?organisation=<id>", f"/api/v1/contacts/?organisation={busy}"),
    ("admin organisations", "/admin/organisation/organisation/"),
    ("admin organisations ?p=2000", "/admin/organisation/organisation/?p=2000"),
    ("admin contacts", "/admin/contact/contact/"),
    ("admin contacts ?q=smith", "/admin/contact/contact/?q=smith"),
]
client.get("/api/v1/organisations/?page_size=1")  # warm: URL resolver, content types, connections
for name, url in views:
    Vouch.objects.all().delete()  # a first view: no row of it vouched for by an earlier view
    for view in ("first", "repeat"):
        with count_requests() as crm, CaptureQueriesContext(connection) as sql:
            started = time.perf_counter()
            response = client.get(url)
            ms = (time.perf_counter() - started) * 1000
        print(json.dumps([name, view, response.status_code, crm.count, len(sql), ms]))
"""


def pages(args, workdir, database_url):
    contacts = args.accounts * args.contacts_per_account
    data = workdir / "crm.sqlite3"
    started = time.monotonic()
    fast = Emulator(data, args.accounts, args.contacts_per_account, 0)
    print(f"emulator: {args.accounts} accounts + about {contacts} contacts in {time.monotonic() - started:.0f} s")
    site = Site(database_url, fast.base_url)
    site.fresh_database()
    try:
        imported, followed = site.mirror()
    finally:
        fast.stop()
    print(f"import at 0 ms: {imported:.0f} s; follower round and key sweep: {followed:.0f} s")
    if args.vacuum and database_url.startswith("postgres"):
        site.manage("dbshell", "--", "-c", "VACUUM (ANALYZE) organisation_organisation, contact_contact")
        print("VACUUM (ANALYZE) of both tables, as autovacuum does some time after a bulk insert")
    slow = Emulator(data, 0, 0, args.latency_ms)
    try:
        site.base_url = slow.base_url
        site.manage("cdms_follow", "--once", "--no-sweep")  # a fresh change watermark at the real latency
        out = site.manage("shell", "-c", PAGES_SCRIPT, CDMS_MAX_STALENESS=BOUND)
        load = load_of_machine()
    finally:
        slow.stop()
    print(f"1. pages at {args.latency_ms} ms CRM latency, CDMS_MAX_STALENESS={BOUND}, load {load}")
    print(f"   {'view':<36} {'':<7} status  CRM requests  SQL statements  server ms")
    for line in out.strip().splitlines():
        if line.startswith("["):
            name, view, status, crm, sql, ms = json.loads(line)
            print(f"   {name:<36} {view:<7} {status:>6}  {crm:>12}  {sql:>14}  {ms:9.1f}")


# -- 2. load ------------------------------------------------------------------------------------
TOKEN_SCRIPT = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from organisation.models import Organisation
user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
ids = list(Organisation.objects.skip_cdms().values_list("id", flat=True)[:200])
print("TOKEN", Token.objects.get_or_create(user=user)[0].key, *ids)
"""


def load(args, workdir, database_url):
    emulator = Emulator(workdir / "demo.sqlite3", args.demo_rows, args.contacts_per_account, args.latency_ms)
    site = Site(database_url, emulator.base_url)
    processes = []
    try:
        site.fresh_database()
        site.mirror()
        out = site.manage("shell", "-c", TOKEN_SCRIPT).splitlines()
        _, token, *ids = next(line for line in out if line.startswith("TOKEN ")).split()
        port = free_port()
        env = site.env(CDMS_MAX_STALENESS=BOUND)
        gunicorn = ["-m", "gunicorn", "settings.wsgi", "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}"]
        follower = ["manage.py", "cdms_follow", "--interval", "1"]
        for command in (gunicorn, follower):
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            processes.append(subprocess.Popen([PYTHON, *command], cwd=ROOT, env=env, **quiet))
        wait_for(f"http://127.0.0.1:{port}/healthz", processes[0], "gunicorn")
        times, statuses = run_users(args, f"http://127.0.0.1:{port}", token, ids)
        load = load_of_machine()
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        emulator.stop()
    times.sort()
    p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95) - 1]
    print(f"2. {args.users} users for {args.seconds} s, gunicorn 2 workers x 4 threads, {args.demo_rows} demo "
          f"organisations, {args.latency_ms} ms CRM latency, load {load}")  # fmt: skip
    print(f"   {len(times)} requests ({len(times) / args.seconds:.1f}/s), statuses {statuses}")
    print(f"   p50 {p50 * 1000:.0f} ms   p95 {p95 * 1000:.0f} ms   max {times[-1] * 1000:.0f} ms")


def run_users(args, base, token, ids):
    times, statuses, lock = [], {}, threading.Lock()
    deadline = time.monotonic() + args.seconds
    pages = max(1, args.demo_rows // 25)

    def user(seed):
        chooser = random.Random(seed)
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        while time.monotonic() < deadline:
            url = chooser.choice(
                [
                    f"/api/v1/organisations/?page={chooser.randint(1, pages)}",
                    "/api/v1/organisations/?ordering=-modified",
                    "/api/v1/organisations/?city=Leeds",
                    f"/api/v1/contacts/?organisation={chooser.choice(ids)}",
                    f"/api/v1/organisations/{chooser.choice(ids)}/",
                ]
            )
            started = time.monotonic()
            response = session.get(base + url, timeout=60)
            status = response.status_code
            if status != 200 and not statuses.get(status):
                print(f"   first {status}: {url} {response.text[:200]}")
            with lock:
                times.append(time.monotonic() - started)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, statuses


def main():
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'datahub.sqlite3'}"
    print(f"database: {database_url.split('@')[-1]}; load before: {load_of_machine()}")
    try:
        if not args.skip_pages:
            pages(args, workdir, database_url)
        if not args.skip_load:
            load(args, workdir, database_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
