"""Import benchmark: cdms_import throughput (rows/second) for many accounts, beside the latency floor.

Run: .venv/bin/python bench/import.py [--rows 100000] [--latencies 0,20] [--workers 1,4,8]

The emulator runs in its own process (so it does not share the importer's GIL), seeded once
with `--rows` demo accounts (no contacts: only accounts are imported) in a throw-away SQLite file, restarted for
each latency. Each import starts from a fresh, migrated database (`DATABASE_URL`, flushed, else
a SQLite file) and runs `manage.py cdms_import --full --entity Account` in a subprocess, as an
operator would. Beside the wall time it prints the CPU seconds of the importer, of PostgreSQL's
server processes and of the emulator (a real CRM spends its CPU on another machine).

The floor is what one sequential client cannot beat: it waits the emulator's latency once
per page, so it needs at least pages x latency seconds (rows / 50 pages), whatever the
database does. Several workers overlap those waits. Rates depend on the machine.
"""

import argparse
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PAGE_SIZE = 50
SUMMARY = re.compile(r"^Account\s+\S+\s+(\d+)\s", re.MULTILINE)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="accounts in the emulator")
    parser.add_argument("--latencies", default="0,20", help="emulator latencies in ms, comma-separated")
    parser.add_argument("--workers", default="1,4,8", help="worker counts, comma-separated")
    return parser.parse_args()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_emulator(data, rows, latency):
    """The emulator process and its base URL, once it accepts connections."""
    port = free_port()
    command = [PYTHON, "-m", "cdms_api.emulator", "--port", str(port), "--data", str(data)]
    command += ["--seed-demo", str(rows), "--seed-contacts", "0", "--latency-ms", str(latency)]
    command += ["--page-size", str(PAGE_SIZE)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(3000):  # seeding 100,000 accounts at the CRM's real width takes minutes
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the emulator did not start")


def django_env(database_url, base_url):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="settings.test", DATABASE_URL=database_url)
    env.update(CDMS_BASE_URL=base_url, CDMS_TIMEOUT="30", LOG_LEVEL="WARNING")
    return env


def migrated_template(workdir):
    template = workdir / "template.sqlite3"
    env = django_env(f"sqlite:///{template}", "http://127.0.0.1:1")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return template


def fresh_database(template, workdir, workers):
    """The URL of an empty, migrated database: DATABASE_URL flushed, else a copy of the SQLite template."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        env = django_env(configured, "http://127.0.0.1:1")
        for command in (["migrate", "-v0"], ["flush", "--noinput"]):
            subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True)
        return configured, lambda: None
    database = workdir / f"run-{workers}.sqlite3"
    shutil.copy(template, database)
    return f"sqlite:///{database}", database.unlink


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_backends(name):
    """The pids of the PostgreSQL backends serving database `name` (their title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {name} " in title:
                pids.append(int(entry.name))
    return pids


class BackendCPU(threading.Thread):
    """Samples, every 0.2 s, the CPU of the PostgreSQL backends of one database while an import runs."""

    def __init__(self, database_url):
        super().__init__(daemon=True)
        self.name_ = urlsplit(database_url).path.lstrip("/") if database_url.startswith("postgres") else None
        self.seen, self.done = {}, threading.Event()

    def run(self):
        while self.name_ and not self.done.wait(0.2):
            for pid in database_backends(self.name_):
                self.seen[pid] = cpu_seconds(pid)

    def stop(self):
        """CPU seconds the backends used (those already there at the start count from then)."""
        self.done.set()
        self.join()
        return sum(self.seen.values()) - sum(self.start_.values())

    def begin(self):
        self.start_ = {pid: cpu_seconds(pid) for pid in database_backends(self.name_)} if self.name_ else {}
        self.start()


def run_import(template, workdir, emulator, base_url, workers):
    """(rows imported, seconds, CPU seconds of importer, database, emulator) of one full import."""
    database_url, cleanup = fresh_database(template, workdir, workers)
    command = [PYTHON, "manage.py", "cdms_import", "--full", "--entity", "Account", "--workers", str(workers)]
    backends = BackendCPU(database_url)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    emulator_before = cpu_seconds(emulator.pid)
    backends.begin()
    started = time.monotonic()
    env = django_env(database_url, base_url)
    result = subprocess.run([*command, "--no-progress"], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    database = backends.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    importer = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    emulated = cpu_seconds(emulator.pid) - emulator_before
    cleanup()
    if result.returncode != 0:
        raise SystemExit(f"cdms_import failed:\n{result.stdout}\n{result.stderr}")
    return int(SUMMARY.search(result.stdout).group(1)), seconds, importer, database, emulated


def main():
    args = parse_args()
    latencies = [int(x) for x in args.latencies.split(",")]
    worker_counts = [int(x) for x in args.workers.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        template = migrated_template(workdir)
        print(f"cdms_import --full --entity Account: {args.rows} accounts, {PAGE_SIZE} a page", flush=True)
        header = (
            "  latency  workers     rows   seconds   rows/s   floor s  floor rows/s"
            "   CPU s: importer  database  emulator  importer ms/1000 rows"
        )
        print(header)
        print("-" * len(header), flush=True)
        for latency in latencies:
            process, base_url = start_emulator(workdir / "crm.sqlite3", args.rows, latency)
            try:
                for workers in worker_counts:
                    rows, seconds, importer, database, emulated = run_import(
                        template, workdir, process, base_url, workers
                    )
                    floor = -(-rows // PAGE_SIZE) * latency / 1000
                    floor_rate = f"{rows / floor:12.0f}" if floor else f"{'unbounded':>12}"
                    print(
                        f"{latency:>7}ms  {workers:>7}  {rows:>7}  {seconds:>8.1f}  {rows / seconds:>7.0f}  "
                        f"{floor:>8.1f}  {floor_rate}  {importer:>16.1f}  {database:>8.1f}  {emulated:>8.1f}  "
                        f"{importer / rows * 1_000_000:>22.1f}",
                        flush=True,
                    )
            finally:
                process.terminate()
                process.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("seconds: wall time of the command, including start-up; floor: pages x latency of one sequential client")
    print(
        "CPU s: the importer process (with SQLite, the database's work too), the PostgreSQL backends of "
        "its database (DATABASE_URL=postgres://..., sampled every 0.2 s), the emulator (a real CRM's is elsewhere)"
    )


if __name__ == "__main__":
    main()
