"""How often a wrong password reaches AD FS while `make run`'s processes keep running.

Starts what `make run` starts, against an `--auth adfs` emulator (a CRM behind its own STS and
the organisation's AD FS) configured with a wrong password: the web server (`runserver`), the
change follower with its sweepers (`cdms_follow --sweep-interval 30`), then drives the API as
people would (`--clients` threads, each reading a list page every second and creating an
organisation every tenth request, and `/readyz` every 5 s) for `--seconds`. At the end it reads
the emulator's count of password checks and prints them, with the API's answers by status.

    .venv/bin/python bench/refused_credentials.py --seconds 600

The database is DATABASE_URL (default: a fresh SQLite file in a temporary directory). The goal is
one sign-in attempt for the whole run, whatever the number of processes and threads; Active
Directory in the emulator locks the account after `--lockout-threshold` failures (default 5).
"""

import argparse
import collections
import os
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


def free_port():
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port, seconds=60):
    """Wait until something accepts connections on `port`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"nothing listens on port {port} after {seconds} s")


def start(args, env, log):
    """Start a process of the run, its output in `log`."""
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def drive(api, token, stop, answers):
    """Read a list page every second and create an organisation every tenth time, until `stop`."""
    headers = {"Authorization": f"Token {token}"}
    n = 0
    while not stop.is_set():
        n += 1
        try:
            if n % 10 == 0:
                response = requests.post(
                    f"{api}/api/v1/organisations/", json={"name": f"Bench {n}"}, headers=headers, timeout=30
                )
            else:
                response = requests.get(f"{api}/api/v1/organisations/", headers=headers, timeout=30)
            answers[response.status_code] += 1
        except requests.RequestException as exc:
            answers[type(exc).__name__] += 1
        stop.wait(1.0)


def watch_readiness(api, stop, answers):
    """Ask /readyz every 5 s, until `stop`."""
    while not stop.wait(5.0):
        try:
            answers[f"readyz {requests.get(f'{api}/readyz', timeout=30).status_code}"] += 1
        except requests.RequestException as exc:
            answers[f"readyz {type(exc).__name__}"] += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--lockout-threshold", type=int, default=5)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="refused-credentials-"))
    users = work / "users.txt"
    users.write_text("CORP:svc-datahub:the-right-password\n")
    crm, adfs, sts, api_port = free_port(), free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{work / 'db.sqlite3'}"),
        "CDMS_BASE_URL": f"http://127.0.0.1:{crm}",
        "CDMS_AUTH": "adfs",
        "CDMS_USERNAME": "CORP\\svc-datahub",
        "CDMS_PASSWORD": "a-wrong-password",
        "CDMS_ADFS_URL": f"http://127.0.0.1:{adfs}/adfs/ls/",
        "CDMS_ADFS_WHR": f"http://127.0.0.1:{adfs}/adfs/services/trust",
        "CDMS_MAX_STALENESS": "10",
        "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"),
    }
    (work / "prometheus").mkdir()
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    token_line = subprocess.run(
        [PYTHON, "manage.py", "create_demo_user", "--password", "demo"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    token = next(line.split()[-1] for line in token_line.splitlines() if "API token" in line)
    processes = []
    with open(work / "processes.log", "w") as log:
        try:
            emulator = [PYTHON, "-m", "cdms_api.emulator", "--port", str(crm), "--seed-demo", "20"]
            emulator += ["--auth", "adfs", "--users", str(users), "--adfs-port", str(adfs)]
            emulator += ["--resource-sts-port", str(sts), "--lockout-threshold", str(options.lockout_threshold)]
            processes.append(start(emulator, env, log))
            wait_for(crm)
            processes.append(start([PYTHON, "manage.py", "cdms_follow", "--sweep-interval", "30"], env, log))
            server = [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{api_port}"]
            processes.append(start(server, env, log))
            wait_for(api_port)
            api, stop, answers = f"http://127.0.0.1:{api_port}", threading.Event(), collections.Counter()
            threads = [
                threading.Thread(target=drive, args=(api, token, stop, answers)) for _ in range(options.clients)
            ]
            threads.append(threading.Thread(target=watch_readiness, args=(api, stop, answers)))
            started = time.monotonic()
            for thread in threads:
                thread.start()
            time.sleep(options.seconds)
            stop.set()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            stats = requests.get(f"http://127.0.0.1:{crm}/_emulator/stats", timeout=10).json()
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
    attempts = stats["sign_in_attempts"]
    print(
        f"ran {elapsed:.0f} s: runserver, cdms_follow (with its sweepers), {options.clients} API clients, /readyz"
    )
    print(f"password checks that reached AD FS: {attempts['attempts']} (refused {attempts['refused']})")
    print(
        f"locked accounts: {', '.join(attempts['locked']) or 'none'} (lockout after {options.lockout_threshold})"
    )
    print(f"service requests that reached the CRM: {stats['count']}")
    print("API answers: " + ", ".join(f"{key}: {count}" for key, count in sorted(answers.items(), key=str)))
    print(f"logs: {work / 'processes.log'}")


if __name__ == "__main__":
    main()
