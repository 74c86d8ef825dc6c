"""Import benchmark: cdms_import throughput (rows/second) for many accounts, beside the latency floor.

Run: .venv/bin/python bench/import.py [--rows 100000] [--latencies 0,20] [--workers 1,4,8]

The emulator runs in its own process (so it does not share the importer's GIL), seeded once
with `--rows` demo accounts (and their contacts) in a throw-away SQLite file, restarted for
each latency. Each import starts from a fresh, migrated SQLite database and runs
`manage.py cdms_import --full --entity Account` in a subprocess, as an operator would.

The floor is what one sequential client cannot beat: it waits the emulator's latency once
per page, so it needs at least pages x latency seconds (rows / 50 pages), whatever the
database does. Several workers overlap those waits. Rates depend on the machine.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    command += ["--seed-demo", str(rows), "--latency-ms", str(latency), "--page-size", str(PAGE_SIZE)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the emulator did not start")


def django_env(database, base_url):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="settings.test", DATABASE_URL=f"sqlite:///{database}")
    env.update(CDMS_BASE_URL=base_url, CDMS_TIMEOUT="30", LOG_LEVEL="WARNING")
    return env


def migrated_template(workdir):
    template = workdir / "template.sqlite3"
    env = django_env(template, "http://127.0.0.1:1")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return template


def run_import(template, workdir, base_url, workers):
    """(rows imported, seconds) of one full import into a fresh database."""
    database = workdir / f"run-{workers}.sqlite3"
    shutil.copy(template, database)
    command = [PYTHON, "manage.py", "cdms_import", "--full", "--entity", "Account", "--workers", str(workers)]
    started = time.monotonic()
    result = subprocess.run(
        [*command, "--no-progress"], cwd=ROOT, env=django_env(database, base_url), capture_output=True, text=True
    )
    seconds = time.monotonic() - started
    database.unlink()
    if result.returncode != 0:
        raise SystemExit(f"cdms_import failed:\n{result.stdout}\n{result.stderr}")
    return int(SUMMARY.search(result.stdout).group(1)), seconds


def main():
    args = parse_args()
    latencies = [int(x) for x in args.latencies.split(",")]
    worker_counts = [int(x) for x in args.workers.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        template = migrated_template(workdir)
        print(f"cdms_import --full --entity Account: {args.rows} accounts, {PAGE_SIZE} a page", flush=True)
        header = "  latency  workers     rows   seconds   rows/s   floor s  floor rows/s"
        print(header)
        print("-" * len(header), flush=True)
        for latency in latencies:
            process, base_url = start_emulator(workdir / "crm.sqlite3", args.rows, latency)
            try:
                for workers in worker_counts:
                    rows, seconds = run_import(template, workdir, base_url, workers)
                    floor = -(-rows // PAGE_SIZE) * latency / 1000
                    floor_rate = f"{rows / floor:12.0f}" if floor else f"{'unbounded':>12}"
                    print(
                        f"{latency:>7}ms  {workers:>7}  {rows:>7}  {seconds:>8.1f}  {rows / seconds:>7.0f}  "
                        f"{floor:>8.1f}  {floor_rate}",
                        flush=True,
                    )
            finally:
                process.terminate()
                process.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("seconds: wall time of the command, including start-up; floor: pages x latency of one sequential client")


if __name__ == "__main__":
    main()
