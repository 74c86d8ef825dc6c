"""`make run` (`manage.py runlocal`) says which process failed, stops the others and fails.

Each test runs the real command in a subprocess, on free ports, with its logs and emulator data
in a temporary directory and the test database (already migrated) as its database.
"""

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.supervise import answers
from tests.subprocesses import database_url

ROOT = Path(__file__).resolve().parent.parent
STARTED = "Press Ctrl-C to stop."
START_SECONDS = 240  # a loaded machine may take long to start three Django processes


def free_ports(n):
    """`n` distinct ports nothing listens on."""
    sockets = [socket.socket() for _ in range(n)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


class Run:
    """`manage.py runlocal` in a subprocess, its output collected line by line."""

    def __init__(self, tmp_path, api_port, emulator_port, database=None):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if database:
            env["DATABASE_URL"] = database
        argv = [sys.executable, "manage.py", "runlocal", "--api-port", str(api_port)]
        argv += ["--emulator-port", str(emulator_port), "--demo-rows", "3", "--run-dir", str(tmp_path / "run")]
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines, self._queue = [], queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text, seconds=START_SECONDS):
        """Collect output until a line contains `text`; fail if the run ends or time runs out first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"the run ended before {text!r}:\n{self.output}")
            self.lines.append(line)
            if text in line:
                return line
        pytest.fail(f"no {text!r} within {seconds} s:\n{self.output}")

    def finish(self, seconds=60):
        """Wait for the run to end; return its exit status."""
        status = self.proc.wait(timeout=seconds)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return status

    @property
    def output(self):
        return "\n".join(self.lines)

    def pid_of(self, label):
        """The pid the banner gives for `label` (`CRM emulator`, `Change follower`, `API server`)."""
        line = next(line for line in self.lines if line.strip().startswith(f"{label}:"))
        return int(re.search(r"pid (\d+)", line).group(1))

    def kill(self):
        """Kill the run, and the processes it started (each leads its own session) if it could not."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for label in ("CRM emulator", "Change follower", "API server"):
            with contextlib.suppress(StopIteration, ProcessLookupError, PermissionError):
                os.killpg(self.pid_of(label), signal.SIGKILL)


@pytest.fixture
def runs():
    started = []
    yield lambda *args, **kwargs: started.append(Run(*args, **kwargs)) or started[-1]
    for run in started:
        run.kill()


def gone(pid, seconds=10):
    """Whether process `pid` has ended (and been reaped) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("taken, setting", [("emulator", "EMULATOR_PORT"), ("api", "API_PORT")])
def test_a_port_in_use_stops_the_run_before_anything_starts(tmp_path, runs, taken, setting):
    api_port, emulator_port = free_ports(2)
    holder = socket.socket()
    holder.bind(("127.0.0.1", emulator_port if taken == "emulator" else api_port))
    holder.listen()
    try:
        run = runs(tmp_path, api_port, emulator_port)
        status = run.finish()
    finally:
        holder.close()
    port = emulator_port if taken == "emulator" else api_port
    name = "the CRM emulator" if taken == "emulator" else "the API server"
    assert status == 1
    assert f"Error: Port {port}, which {name} serves on, is already in use" in run.output
    assert re.search(rf"choose another port: {setting}=\d+ make run", run.output)
    assert "Starting" not in run.output
    assert not (tmp_path / "run").exists()


def test_a_process_that_fails_to_start_is_named_and_nothing_after_it_starts(tmp_path, runs, transactional_db):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "emulator.sqlite3").write_bytes(b"not a database, " * 16)
    api_port, emulator_port = free_ports(2)
    run = runs(tmp_path, api_port, emulator_port, database=database_url())
    status = run.finish(START_SECONDS)
    assert status == 1
    assert re.search(
        rf"Error: The CRM emulator \(python -m cdms_api.emulator .*, pid \d+\) exited with status 1 before it "
        rf"answered on port {emulator_port}\.",
        run.output,
    ), run.output
    assert "file is not a database" in (tmp_path / "run" / "emulator.log").read_text()
    assert "Starting the change follower" not in run.output
    assert STARTED not in run.output
    assert not answers(api_port)


def test_a_process_that_dies_later_is_named_with_its_log_and_the_others_stop(tmp_path, runs, transactional_db):
    api_port, emulator_port = free_ports(2)
    run = runs(tmp_path, api_port, emulator_port, database=database_url())
    run.wait_for(STARTED)
    follower, emulator, server = (run.pid_of(label) for label in ("Change follower", "CRM emulator", "API server"))
    assert answers(api_port) and answers(emulator_port)
    log = tmp_path / "run" / "follower.log"
    deadline = time.monotonic() + START_SECONDS
    while not log.read_text().strip() and time.monotonic() < deadline:  # it has said something to show
        time.sleep(0.2)
    os.kill(follower, signal.SIGKILL)
    assert run.finish() == 1
    assert re.search(
        rf"Error: The change follower \(python .*manage.py cdms_follow .*, pid {follower}\) was killed by signal "
        r"SIGKILL\.\nLast lines of its log, .*follower.log:\n  \| ",
        run.output,
    ), run.output
    assert f"  | {log.read_text().splitlines()[-1]}" in run.output
    assert "Stopped the API server and the CRM emulator." in run.output
    assert gone(emulator) and gone(server)
    assert not answers(api_port) and not answers(emulator_port)


def test_ctrl_c_stops_every_process_and_succeeds(tmp_path, runs, transactional_db):
    api_port, emulator_port = free_ports(2)
    run = runs(tmp_path, api_port, emulator_port, database=database_url())
    run.wait_for(STARTED)
    pids = [run.pid_of(label) for label in ("Change follower", "CRM emulator", "API server")]
    run.proc.send_signal(signal.SIGINT)
    assert run.finish() == 0
    assert run.lines[-1] == "Stopped."
    assert "Error" not in run.output
    assert all(gone(pid) for pid in pids)
