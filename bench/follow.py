"""Follower benchmark: bounded against strict list pages, follower lag, key sweeps, Celery imports.

Run: .venv/bin/python bench/follow.py [--rows 100000] [--latency-ms 20] [--changes 200]
                                     [--steps celery,sweeps,pages,lag]
     .venv/bin/python bench/follow.py --soak [--minutes 30] [--rows 100000] [--contacts 3]
                                     [--modes follow,helpers,celery] [--helpers 2] [--sweep-interval 120]

`--soak` runs the long scenario of `bench/follow_soak.py` instead of the steps below (the
watermarks' largest ages and the list pages served over `--minutes` per mode, at 100,000
accounts and 300,000 contacts by default); `make soak` does not run it: it takes an hour or more.
DATABASE_URL (or `--database-url`) chooses the database, CELERY_BROKER_URL the broker.

The emulator runs in its own process at `--latency-ms`, seeded with `--rows` demo accounts
(and their contacts). Every Django step runs as an operator would run it, in subprocesses on a
fresh SQLite database (or `--database-url`, default `DATABASE_URL`), except the API page, which is timed in-process
with Django's test client (server time: the view and the sync layer, no HTTP hop).

1. `cdms_import --celery --full --entity Account` with 1 and 2 Celery worker processes, each with
   4 threads (the broker the settings configure, CELERY_BROKER_URL; skipped without one).
2. One follower round, then a key sweep of the accounts shared by 1, 2 and 4 `cdms_follow
   --once --sweep-only` processes (8 partitions).
3. The API's organisation list, page 3 ordered by name: strict (no bound) beside bounded
   (CDMS_MAX_STALENESS=30): CRM requests and server milliseconds.
4. Lag: `cdms_follow --no-sweep --interval 1` runs while another CRM user renames `--changes`
   accounts, one every 0.1 s; the time until each rename is visible locally, p50 and p95.
"""

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
_spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
bench_import = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_import)
_spec = importlib.util.spec_from_file_location("follow_soak", ROOT / "bench" / "follow_soak.py")
follow_soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(follow_soak)
SERVICE = "/XRMServices/2011/OrganizationData.svc"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="accounts in the emulator")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--changes", type=int, default=200, help="CRM changes whose lag is measured")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="a database to use (default: DATABASE_URL, else a fresh SQLite file); it is emptied",
    )
    parser.add_argument(
        "--steps",
        default="celery,sweeps,pages,lag",
        help="which of celery, sweeps, pages, lag to run (without celery, an import in process comes first)",
    )
    parser.add_argument("--soak", action="store_true", help="the long scenario instead (bench/follow_soak.py)")
    parser.add_argument("--minutes", type=float, default=30.0, help="--soak: minutes each mode runs")
    parser.add_argument("--contacts", type=int, default=3, help="--soak: contacts per account")
    parser.add_argument("--modes", default="follow,helpers,celery", help="--soak: modes, comma-separated")
    parser.add_argument("--helpers", type=int, default=2, help="--soak: cdms_follow --sweep-only processes")
    parser.add_argument(
        "--sweep-interval", type=float, default=120.0, help="--soak: CDMS_SWEEP_INTERVAL of helpers and celery"
    )
    return parser.parse_args()


class Bench:
    def __init__(self, args, workdir, base_url):
        self.args, self.workdir, self.base_url = args, workdir, base_url
        self.database_url = args.database_url or f"sqlite:///{workdir / 'datahub.sqlite3'}"
        self.queue = f"bench-{uuid.uuid4().hex[:8]}"

    def env(self, **extra):
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="settings.test", DATABASE_URL=self.database_url)
        env.update(CDMS_BASE_URL=self.base_url, CDMS_TIMEOUT="30", LOG_LEVEL="WARNING")
        env.update(CELERY_TASK_DEFAULT_QUEUE=self.queue, **extra)
        return env

    def manage(self, *command, **extra):
        result = subprocess.run(
            [PYTHON, "manage.py", *command], cwd=ROOT, env=self.env(**extra), capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def reset_database(self):
        if self.args.database_url:
            self.manage("flush", "--noinput")
        else:
            Path(self.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        self.manage("migrate", "-v0")

    # -- 1. imports through Celery ------------------------------------------------------------
    def celery_imports(self):
        sys.path.insert(0, str(ROOT))
        from migrator.management.broker import broker_answers

        broker = self.configured_broker()
        if not broker_answers(broker):
            print(f"1. cdms_import through Celery: skipped, no broker at {broker}")
            self.reset_database()
            self.manage("cdms_import", "--full", "--entity", "Account", "--no-progress")
            return
        print(f"1. cdms_import --celery --full --entity Account ({self.args.rows} accounts)")
        for count in (1, 2):
            self.reset_database()
            workers = self.start_workers(count)
            try:
                started = time.monotonic()
                self.manage("cdms_import", "--celery", "--full", "--entity", "Account", "--no-progress")
                seconds = time.monotonic() - started
            finally:
                self.stop(workers)
            print(f"   {count} worker process(es): {seconds:6.1f} s", flush=True)

    def configured_broker(self):
        """CELERY_BROKER_URL as the project's settings resolve it (the environment, else their default)."""
        script = "from django.conf import settings; print('BROKER', settings.CELERY_BROKER_URL)"
        out = self.manage("shell", "-c", script)
        return next(line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("BROKER "))

    def start_workers(self, count):
        command = [PYTHON, "-m", "celery", "-A", "settings.celery", "worker", "--pool=threads", "--concurrency=4",
                   "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING", "-Q",
                   self.queue]  # fmt: skip
        return [
            subprocess.Popen(
                [*command, f"--hostname=bench{n}@%h"],
                cwd=ROOT,
                env=self.env(),
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for n in range(count)
        ]

    @staticmethod
    def stop(processes):
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()

    def import_in_process(self):
        self.reset_database()
        started = time.monotonic()
        self.manage("cdms_import", "--full", "--entity", "Account", "--no-progress")
        print(f"1. cdms_import --full --entity Account in process: {time.monotonic() - started:.0f} s", flush=True)

    # -- 2. sweeps ----------------------------------------------------------------------------
    def sweeps(self):
        self.manage("cdms_follow", "--once", "--no-sweep", "--entity", "Account")
        print("2. key sweep of the accounts, 8 partitions")
        for count in (1, 2, 4):
            self.manage("shell", "-c", PLAN_SWEEP)
            started = time.monotonic()
            processes = [
                subprocess.Popen(
                    [PYTHON, "manage.py", "cdms_follow", "--once", "--sweep-only", "--entity", "Account"],
                    cwd=ROOT,
                    env=self.env(),
                    stdout=subprocess.DEVNULL,
                )  # fmt: skip
                for _ in range(count)
            ]
            for process in processes:
                process.wait()
            print(f"   {count} process(es): {time.monotonic() - started:6.1f} s", flush=True)

    # -- 3. list pages ------------------------------------------------------------------------
    def list_pages(self):
        self.manage("cdms_follow", "--once", "--no-sweep", "--entity", "Account")  # a fresh watermark
        out = self.manage("shell", "-c", LIST_PAGE_SCRIPT)
        print("3. GET /api/v1/organisations/?ordering=name&page=3")
        for line in out.strip().splitlines():
            if not line.startswith("["):
                continue
            mode, status, crm_requests, ms = json.loads(line)
            print(f"   {mode:<8} status {status}  CRM requests {crm_requests:>4}  server {ms:8.1f} ms")

    # -- 4. lag -------------------------------------------------------------------------------
    def lag(self):
        follower = subprocess.Popen(
            [PYTHON, "manage.py", "cdms_follow", "--no-sweep", "--interval", "1", "--entity", "Account"],
            cwd=ROOT, env=self.env(), stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(3)
            lags = self.measure_lag()
        finally:
            follower.terminate()
            follower.wait()
        lags.sort()
        p95 = lags[int(len(lags) * 0.95) - 1]
        print(f"4. lag from a CRM write to local visibility over {len(lags)} changes, 1 s poll:")
        print(f"   p50 {statistics.median(lags):.2f} s   p95 {p95:.2f} s   max {lags[-1]:.2f} s")

    def measure_lag(self):
        session = requests.Session()
        session.headers.update({"Accept": "application/json", "Content-Type": "application/json"})
        root = self.base_url + SERVICE
        keys = [
            r["AccountId"]
            for r in session.get(f"{root}/AccountSet?$select=AccountId&$top=50").json()["d"]["results"]
        ]
        sent, seen = {}, {}
        watcher = threading.Thread(target=self.watch, args=(sent, seen), daemon=True)
        watcher.start()
        for i in range(self.args.changes):
            name = f"lag {i} {uuid.uuid4().hex[:6]}"
            key = keys[i % len(keys)]
            session.post(
                f"{root}/AccountSet(guid'{key}')", json={"Name": name}, headers={"X-HTTP-Method": "MERGE"}
            )
            sent[name] = time.monotonic()
            time.sleep(0.1)
        deadline = time.monotonic() + 30
        while len(seen) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.1)
        # A name overwritten by a later change may never be seen; it has no lag to measure.
        return [seen[name] - sent[name] for name in seen]

    def watch(self, sent, seen):
        import django

        os.environ.update(self.env())
        django.setup()
        from organisation.models import Organisation

        while True:
            names = set(
                Organisation.objects.skip_cdms().filter(name__startswith="lag ").values_list("name", flat=True)
            )
            now = time.monotonic()
            for name in names:
                if name in sent and name not in seen:
                    seen[name] = now
            time.sleep(0.02)


PLAN_SWEEP = (
    "from organisation.models import Organisation; from migrator.mirror.sweep import plan; plan(Organisation, 8)"
)
LIST_PAGE_SCRIPT = """
import json, time
from django.contrib.auth.models import User
from django.test import Client, override_settings
from cdms_api.counting import count_requests
user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
client = Client()
client.force_login(user)
for mode, bound in (("strict", None), ("bounded", 30)):
    with override_settings(CDMS_MAX_STALENESS=bound, ALLOWED_HOSTS=["testserver"]):
        client.get("/api/v1/organisations/?ordering=name&page=2")
        with count_requests() as counter:
            started = time.perf_counter()
            response = client.get("/api/v1/organisations/?ordering=name&page=3")
            ms = (time.perf_counter() - started) * 1000
    print(json.dumps([mode, response.status_code, counter.count, ms]))
"""


def start_emulator(data, rows, latency, contacts=0):
    """The emulator process (with `contacts` per account) and its base URL, once it answers."""
    port = bench_import.free_port()
    command = [
        PYTHON,
        "-m",
        "cdms_api.emulator",
        "--port",
        str(port),
        "--data",
        str(data),
        "--seed-demo",
        str(rows),
    ]
    command += ["--seed-contacts", str(contacts), "--latency-ms", str(latency)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(3000):
        try:
            requests.get(f"http://127.0.0.1:{port}{SERVICE}/", timeout=1)
            return process, f"http://127.0.0.1:{port}"
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the emulator did not start")


def main():
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-follow-"))
    started = time.monotonic()
    contacts = args.contacts if args.soak else 0
    emulator, base_url = start_emulator(workdir / "crm.sqlite3", args.rows, args.latency_ms, contacts)
    ready = time.monotonic() - started
    print(
        f"emulator: {args.rows} accounts, {args.rows * contacts} contacts, {args.latency_ms} ms latency, "
        f"ready in {ready:.0f} s"
    )
    print(f"database: {Bench(args, workdir, base_url).database_url.split('@')[-1]}", flush=True)
    try:
        bench = Bench(args, workdir, base_url)
        if args.soak:
            follow_soak.Soak(bench, args).run()
            return
        steps = args.steps.split(",")
        if "celery" in steps:
            bench.celery_imports()
        else:
            bench.import_in_process()
        for step, run in (("sweeps", bench.sweeps), ("pages", bench.list_pages), ("lag", bench.lag)):
            if step in steps:
                run()
    finally:
        emulator.terminate()
        emulator.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
