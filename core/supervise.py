"""Supervise the processes of a local run: start each, wait until it answers, stop all when one fails.

`manage.py runlocal` (what `make run` runs) describes its processes as `Process` values and
hands them to a `Supervisor`, which

- checks, before starting anything, that every port is free, and otherwise names the port,
  the process that wanted it and the setting that moves it (`EMULATOR_PORT=8011 make run`):
  a server started on a taken port would fail, and its callers would talk to whatever holds
  the port;
- starts the processes in order, each in its own process group (Ctrl-C reaches the
  supervisor only, which stops them in turn), its output kept in a log file and, for the
  ones the user watches, copied to the terminal;
- waits for each process with a port until it accepts connections on it; one that exits
  first, or never answers, is a failure;
- then watches them all: the first to exit is a failure too.

A failure is a `ProcessFailed` whose message names the process, its command, how it ended
and the last lines of its log; the caller stops the others (`stop`) and exits non-zero.
"""

import contextlib
import errno
import os
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
TAIL_LINES = 20
POLL_SECONDS = 0.2
STOP_SECONDS = 5.0  # how long a process may take to stop after SIGTERM before it is killed


class ProcessFailed(Exception):
    """A supervised process could not start, or stopped; the message says which and how."""


@dataclass
class Process:
    """One process of the run.

    `port`: the port it serves, waited for before the next process starts; `port_setting`:
    the `make run` variable that chooses it. `echo`: copy its output to the terminal
    (`always`, only while it is starting: `startup`, or `never`).
    """

    name: str
    argv: list[str]
    log: Path
    port: int | None = None
    port_setting: str | None = None
    echo: str = "never"
    ready_seconds: float = 120.0
    popen: subprocess.Popen | None = field(default=None, repr=False)
    ready: bool = False
    _reader: threading.Thread | None = field(default=None, repr=False)

    def command(self):
        """The command line, shortened to what a reader recognises."""
        return " ".join(Path(arg).name if i == 0 else arg for i, arg in enumerate(self.argv))


def port_in_use(port, host=HOST):
    """Whether something on this machine listens on `port` (a server could not bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closing connection is no owner
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def free_port_after(port, taken=()):
    """The first port after `port` that nothing listens on and `taken` does not hold."""
    candidate = port + 1
    while candidate in taken or port_in_use(candidate):
        candidate += 1
    return candidate


def answers(port, host=HOST):
    """Whether a connection to `port` is accepted."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def how_it_ended(returncode):
    """`exited with status 1`, or `was killed by signal SIGKILL`."""
    if returncode < 0:
        try:
            return f"was killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    """Start `Process`es, wait for them, watch them, and stop them all."""

    def __init__(self, out, env=None, clock=time.monotonic, sleep=time.sleep):
        self.out = out
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.clock, self.sleep = clock, sleep
        self.started: list[Process] = []
        self._lock = threading.Lock()

    def check_ports(self, processes):
        """Raise ProcessFailed naming the first port already in use (nothing is started)."""
        ports = {p.port for p in processes if p.port}
        for process in processes:
            if process.port and port_in_use(process.port):
                other = free_port_after(process.port, ports)
                hint = f"{process.port_setting}={other} make run" if process.port_setting else f"port {other}"
                raise ProcessFailed(
                    f"Port {process.port}, which {process.name} serves on, is already in use (another "
                    f"`make run`, or another program). Stop what listens there, or choose another port: {hint}"
                )

    def start(self, process):
        """Start `process` and, when it has a port, wait until it answers there."""
        process.log.parent.mkdir(parents=True, exist_ok=True)
        process.popen = subprocess.Popen(
            process.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops the process
        )
        self.started.append(process)
        process._reader = threading.Thread(target=self._copy_output, args=(process,), daemon=True)
        process._reader.start()
        if process.port:
            self._wait_until_it_answers(process)
        process.ready = True

    def check_running(self):
        """Raise ProcessFailed for the first started process that is no longer running."""
        for process in self.started:
            if process.popen.poll() is not None:
                raise self._failure(process, f"{how_it_ended(process.popen.returncode)}")

    def watch(self):
        """Block until a process stops (ProcessFailed) or the supervisor is interrupted."""
        while True:
            self.check_running()
            self.sleep(POLL_SECONDS)

    def stop(self):
        """Stop every started process, last started first: SIGTERM, then SIGKILL after STOP_SECONDS."""
        running = [p for p in reversed(self.started) if p.popen.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGTERM)
        deadline = self.clock() + STOP_SECONDS
        for process in running:
            try:
                process.popen.wait(timeout=max(0.0, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
        for process in self.started:
            process._reader.join(timeout=2)
        return [p.name for p in running]

    def _wait_until_it_answers(self, process):
        deadline = self.clock() + process.ready_seconds
        while not answers(process.port):
            if process.popen.poll() is not None:
                ended = how_it_ended(process.popen.returncode)
                raise self._failure(process, f"{ended} before it answered on port {process.port}")
            if self.clock() > deadline:
                waited = f"within {process.ready_seconds:g} s"
                raise self._failure(process, f"did not answer on port {process.port} {waited}")
            self.sleep(POLL_SECONDS)

    def _copy_output(self, process):
        with open(process.log, "ab") as log:
            for line in iter(process.popen.stdout.readline, b""):
                log.write(line)
                log.flush()
                if self._echoes(process):
                    with self._lock:
                        self.out.write(line.decode(errors="replace"))
                        self.out.flush()

    def _failure(self, process, what):
        if process.popen.poll() is not None:
            process._reader.join(timeout=2)  # the log then holds its last words
        name = process.name[0].upper() + process.name[1:]
        headline = f"{name} ({process.command()}, pid {process.popen.pid}) {what}."
        if self._echoes(process):
            return ProcessFailed(f"{headline}\nIts output is above, and in its log, {process.log}.")
        tail = _tail(process.log)
        lines = [
            headline,
            f"Last lines of its log, {process.log}:" if tail else f"Its log, {process.log}, is empty.",
            *(f"  | {line}" for line in tail),
        ]
        return ProcessFailed("\n".join(lines))

    def _echoes(self, process):
        return process.echo == "always" or (process.echo == "startup" and not process.ready)


def _tail(path, lines=TAIL_LINES):
    try:
        with open(path, errors="replace") as log:
            return [line.rstrip("\n") for line in deque(log, maxlen=lines)]
    except FileNotFoundError:
        return []
