"""Real Celery worker processes for tests, on the real Redis when one answers (else in memory).

Each test session uses its own queue, so that test runs on one machine never take each
other's tasks. Without Redis the workers are a thread in the test process on Celery's
in-memory broker, so a machine with no services still runs the same tests.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.subprocesses import database_url

ROOT = Path(__file__).resolve().parents[2]
QUEUE = f"datahub-test-{os.getpid()}"
REDIS_URL = "redis://127.0.0.1:6379/0"
LOG_LEVEL = os.environ.get("CELERY_TEST_LOG_LEVEL", "WARNING")


def redis_answers():
    """True when a Redis server answers at 127.0.0.1:6379."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class WorkerProcesses:
    """`count` celery worker processes (prefork, one child each) taking this session's queue."""

    def __init__(self, crm, count, extra_env=None):
        self.crm, self.count, self.extra_env = crm, count, extra_env or {}
        self.procs = []

    def env(self):
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings.test",
            "DATABASE_URL": database_url(),
            "CDMS_BASE_URL": self.crm.base_url,
            "CDMS_TIMEOUT": "5",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
            "PYTHONPATH": str(ROOT),
            **self.extra_env,
        }

    def start(self):
        for n in range(self.count):
            command = [
                sys.executable, "-m", "celery", "-A", "settings.celery", "worker", "--pool=prefork",
                "--concurrency=1", f"--hostname=w{n}-{os.getpid()}@%h", "--without-gossip",
                "--without-mingle", "--without-heartbeat", f"--loglevel={LOG_LEVEL}", "-Q", QUEUE,
            ]  # fmt: skip
            self.procs.append(subprocess.Popen(command, cwd=ROOT, env=self.env(), start_new_session=True))
        return self

    def children(self):
        """PIDs of the pool processes that run tasks."""
        pids = []
        for proc in self.procs:
            out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout
            pids += [int(pid) for pid in out.split()]
        return pids

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


class ThreadWorker:
    """A worker thread on the in-memory broker (no Redis on this machine)."""

    def __init__(self, app):
        self.app = app

    def start(self):
        from celery.contrib.testing.worker import start_worker

        self._context = start_worker(self.app, pool="threads", concurrency=2, perform_ping_check=False)
        self._context.__enter__()
        return self

    def children(self):
        return []

    def stop(self):
        self._context.__exit__(None, None, None)


def wait_for(condition, timeout=90, every=0.2):
    """Poll `condition()` until it is true; an AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"not true within {timeout} s: {condition.__doc__ or condition}")
