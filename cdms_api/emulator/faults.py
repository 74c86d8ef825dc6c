"""Injected faults: the ways a real CRM behind IIS and ADFS fails, on demand.

Kinds: "status" (an HTTP status with a CRM error body), "hang" (hold the response for `seconds`,
past any client timeout; released early, with a 503, by `clear()`), "html" (200 with an ADFS
sign-in page, as an expired claims session answers) and "cut" (headers and part of the body,
then the connection closes). With `after=True` the request is first performed on the store, so
the write happens but its answer is lost.
"""

import threading
from dataclasses import dataclass

KINDS = ("status", "hang", "html", "cut")
DEFAULT_HANG_SECONDS = 30.0


@dataclass
class Fault:
    """One armed fault; `count` is how many more requests it hits."""

    kind: str = "status"
    count: int = 1
    status: int = 503
    method: str | None = None
    entity_set: str | None = None
    after: bool = False
    seconds: float | None = None

    def matches(self, method, entity_set):
        """Whether this fault applies to a request."""
        return (self.method is None or self.method.upper() == method) and (
            self.entity_set is None or self.entity_set == entity_set
        )


class Faults:
    """The armed faults of one emulator, safe to use from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []
        self._release = threading.Event()

    def add(self, kind="status", count=1, status=503, method=None, entity_set=None, after=False, seconds=None):
        """Arm a fault for the next `count` matching requests; returns it."""
        if kind not in KINDS:
            raise ValueError(f"Unknown fault kind {kind!r}; expected one of {KINDS}.")
        if int(count) < 1:
            raise ValueError("count must be at least 1.")
        fault = Fault(kind, int(count), int(status), method, entity_set, bool(after), seconds)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self):
        """Disarm every fault and release hanging responses."""
        with self._lock:
            self._faults = []
            self._release.set()
            self._release = threading.Event()

    def take(self, method, entity_set):
        """The first armed fault matching a request (consuming one of its count), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, entity_set):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self):
        """The armed faults, as dicts."""
        with self._lock:
            return [vars(f).copy() for f in self._faults]

    def hang(self, fault):
        """Block for the fault's seconds; True if released early by clear()."""
        with self._lock:
            release = self._release
        return release.wait(DEFAULT_HANG_SECONDS if fault.seconds is None else float(fault.seconds))


class Stats:
    """What the server served: `requests` is a list of (method, path)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = []

    def record(self, method, path):
        """Note one served request."""
        with self._lock:
            self.requests.append((method, path))

    def reset(self):
        """Forget every request."""
        with self._lock:
            self.requests = []
