"""The follower's long run: watermark ages and list pages over half an hour at real table sizes.

Imported by `bench/follow.py --soak` (see its docstring). The emulator holds `--rows` accounts
and `--contacts` contacts each, at `--latency-ms`; the database is DATABASE_URL (or a fresh
SQLite file) and the broker CELERY_BROKER_URL. After one `cdms_import --full`, each mode runs
for `--minutes` while the web server (`runserver`, CDMS_MAX_STALENESS=30) serves list pages to
a client that asks for one after another, and another CRM user renames accounts, creates
contacts and deletes contacts (so the sweeps have deletions to find):

- `follow`: one `cdms_follow` (its default sweepers and CDMS_SWEEP_INTERVAL);
- `helpers`: one `cdms_follow` and `--helpers` `cdms_follow --sweep-only` processes, every one
  with `--sweep-interval`;
- `celery`: two Celery worker processes (4 threads each) and beat, CDMS_SWEEP_INTERVAL set to
  `--sweep-interval` and CDMS_SWEEP_CONCURRENCY to 6 (of the 8 slots); skipped without a broker.

It prints, per mode: the largest age of each entity's change and delete watermark (sampled
every 2 s from the database), the list pages served from the mirror, strictly and marked
stale, their p50/p95 time, and every answer that was not a 200.
"""

import collections
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
SERVICE = "/XRMServices/2011/OrganizationData.svc"
PAGES = ["/api/v1/organisations/", "/api/v1/contacts/", "/api/v1/organisations/?city=Leeds"]
SAMPLE_SECONDS = 2.0
TOKEN_SCRIPT = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
user, _ = User.objects.get_or_create(username="bench-soak", defaults={"is_superuser": True, "is_staff": True})
print(Token.objects.get_or_create(user=user)[0].key)
"""


class Soak:
    """One soak: the import, then each mode in turn on the same database and emulator."""

    def __init__(self, bench, args):
        self.bench, self.args = bench, args
        self.queue = bench.queue

    def run(self):
        os.environ.update(self.bench.env())  # this process reads the watermarks from the same database
        print(f"uptime at start: {_uptime()}")
        self.bench.reset_database()
        started = time.monotonic()
        self.bench.manage("cdms_import", "--full", "--no-progress")
        print(f"cdms_import --full: {time.monotonic() - started:.0f} s", flush=True)
        token = self.bench.manage("shell", "-c", TOKEN_SCRIPT).strip().splitlines()[-1]
        port = _free_port()
        web = self._spawn(["manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], CDMS_MAX_STALENESS="30")
        try:
            _wait_for_http(f"http://127.0.0.1:{port}/healthz")
            for mode in self.args.modes.split(","):
                self.run_mode(mode.strip(), f"http://127.0.0.1:{port}", token)
        finally:
            _stop([web])
        print(f"uptime at end: {_uptime()}")

    def run_mode(self, mode, web_url, token):
        mode_started = time.monotonic()
        processes = self.start(mode)
        if processes is None:
            print(f"mode {mode}: skipped (no broker answers)")
            return
        warm_up = self.wait_for_fresh_watermarks()
        print(f"mode {mode}: every change watermark fresh {warm_up:.0f} s after start; measuring", flush=True)
        stop = threading.Event()
        samples, pages = [], []
        threads = [
            threading.Thread(target=self.watch_watermarks, args=(samples, mode_started, stop), daemon=True),
            threading.Thread(target=self.ask_pages, args=(web_url, token, pages, stop), daemon=True),
            threading.Thread(target=self.crm_user, args=(stop,), daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            stop.wait(self.args.minutes * 60)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            _stop(processes)
        self.report(mode, samples, pages)

    # -- the modes ----------------------------------------------------------------------------
    def start(self, mode):
        every = str(self.args.sweep_interval)
        if mode == "follow":
            return [self._spawn(["manage.py", "cdms_follow"])]
        if mode == "helpers":
            follower = self._spawn(["manage.py", "cdms_follow", "--sweep-interval", every])
            helpers = [
                self._spawn(["manage.py", "cdms_follow", "--sweep-only", "--sweep-interval", every])
                for _ in range(self.args.helpers)
            ]
            return [follower, *helpers]
        if mode == "celery":
            from migrator.management.broker import broker_answers

            if not broker_answers(os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")):
                return None
            worker = ["-m", "celery", "-A", "settings.celery", "worker", "--pool=threads", "--concurrency=4",
                      "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
                      "-Q", self.queue]  # fmt: skip
            # Six of the eight slots may sweep; the follower's round each second takes another.
            tuned = {"CDMS_SWEEP_INTERVAL": every, "CDMS_SWEEP_CONCURRENCY": "6"}
            workers = [self._spawn([*worker, f"--hostname=soak{n}@%h"], **tuned) for n in (1, 2)]
            schedule = self.bench.workdir / f"beat-{uuid.uuid4().hex[:6]}"
            beat = ["-m", "celery", "-A", "settings.celery", "beat", "--loglevel=WARNING", "-s", str(schedule)]
            return [*workers, self._spawn(beat, **tuned)]
        raise SystemExit(f"unknown mode {mode!r} (follow, helpers, celery)")

    def _spawn(self, command, **env):
        return subprocess.Popen(
            [PYTHON, *command], cwd=ROOT, env=self.bench.env(**env), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    # -- what runs meanwhile ------------------------------------------------------------------
    def wait_for_fresh_watermarks(self, limit=180.0):
        """Seconds until the mode's processes have published every change watermark (started up)."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            ages, since = _ages(), time.monotonic() - started
            if ages and all(age < since for (_, kind), age in ages.items() if kind == "changes"):
                break
            time.sleep(0.5)
        return time.monotonic() - started

    def watch_watermarks(self, samples, mode_started, stop):
        while not stop.wait(SAMPLE_SECONDS):
            samples.append((time.monotonic() - mode_started, _ages()))

    def ask_pages(self, web_url, token, pages, stop):
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        while not stop.is_set():
            for path in PAGES:
                started = time.perf_counter()
                try:
                    response = session.get(web_url + path, timeout=60)
                    status, headers = response.status_code, response.headers
                except requests.RequestException as exc:
                    status, headers = type(exc).__name__, {}
                pages.append((path, status, _served(headers), time.perf_counter() - started))

    def crm_user(self, stop):
        session = requests.Session()
        session.headers.update({"Accept": "application/json", "Content-Type": "application/json"})
        root = self.bench.base_url + SERVICE
        accounts = _keys(session, f"{root}/AccountSet?$select=AccountId", "AccountId")
        seeded = _keys(session, f"{root}/ContactSet?$select=ContactId", "ContactId")
        created, tick = [], 0
        while not stop.wait(1.0):
            tick += 1
            try:
                if tick % 10 == 0 and seeded:  # now and then a contact of the seed, in any partition
                    session.delete(f"{root}/ContactSet(guid'{seeded.pop()}')")
                key = random.choice(accounts)
                session.post(f"{root}/AccountSet(guid'{key}')", json={"Name": f"Soak {uuid.uuid4().hex[:8]}"},
                             headers={"X-HTTP-Method": "MERGE"})  # fmt: skip
                answer = session.post(f"{root}/ContactSet", json={"FirstName": "Soak", "LastName": "Contact"})
                created.append(answer.json()["d"]["ContactId"])
                if len(created) > 5:
                    gone = created.pop(random.randrange(len(created)))
                    session.delete(f"{root}/ContactSet(guid'{gone}')")
            except (requests.RequestException, KeyError, ValueError):
                continue

    # -- the figures --------------------------------------------------------------------------
    def report(self, mode, samples, pages):
        """Print the mode's figures.

        Delete watermarks are also given from the end of the mode's first pass (every partition
        listed again by this mode's processes): before it they carry the age they had when the
        previous mode's processes stopped.
        """
        print(f"mode {mode}, {self.args.minutes:g} min:")
        settled = next((t for t, ages in samples if _all_under(ages, "deletions", t)), None)
        keys = sorted({key for _, ages in samples for key in ages})
        for entity in sorted({entity for entity, _ in keys}):
            changes = max(ages.get((entity, "changes"), 0.0) for _, ages in samples)
            deletions = max(ages.get((entity, "deletions"), 0.0) for _, ages in samples)
            later = [ages for t, ages in samples if settled is not None and t >= settled]
            after = [ages.get((entity, "deletions"), 0.0) for ages in later]
            steady = f"{max(after):.1f} s" if after else "not reached"
            print(
                f"   {entity:<8} watermark max age: changes {changes:7.1f} s, deletions {deletions:7.1f} s "
                f"(after the mode's first pass, from +{settled or 0:.0f} s: {steady})"
            )
        served = collections.Counter(kind for _, status, kind, _ in pages if status == 200)
        times = sorted(seconds for *_, seconds in pages)
        p95 = times[max(0, int(len(times) * 0.95) - 1)] if times else 0.0
        p50 = statistics.median(times) if times else 0.0
        print(
            f"   list pages {len(pages)}: mirror {served['mirror']}, strict {served['strict']}, "
            f"stale-marked {served['stale']}; p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
        )
        failures = collections.Counter((path, status) for path, status, _, _ in pages if status != 200)
        listed = ", ".join(f"{path} {status} x{count}" for (path, status), count in failures.items())
        print(f"   non-200: {listed or 'none'}", flush=True)


def _all_under(ages, kind, bound):
    return all(age < bound for (_, which), age in ages.items() if which == kind)


def _ages():
    """{(entity, "changes" or "deletions"): seconds} of every watermark, read from the database now."""
    import django  # here: the bench sets up Django only once its settings' environment is known

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from migrator.mirror.state import Watermark

    now, ages = timezone.now(), {}
    for mark in Watermark.objects.all():
        for kind in ("changes", "deletions"):
            moment = getattr(mark, f"{kind}_until")
            ages[(mark.entity, kind)] = float("inf") if moment is None else (now - moment).total_seconds()
    connection.close()
    return ages


def _keys(session, url, key):
    return [record[key] for record in session.get(url).json()["d"]["results"]]


def _served(headers):
    if "X-CDMS-Stale" in headers:
        return "stale"
    return "strict" if headers.get("X-CDMS-Watermark") == "strict" else "mirror"


def _stop(processes):
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_http(url, tries=300):
    for _ in range(tries):
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
