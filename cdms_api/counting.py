"""Counting CRM requests, the way `assertNumQueries` counts SQL.

`with count_requests() as counter:` collects every HTTP request any client makes, from any
thread, while the block runs. Blocks nest: each active counter sees every request. The client
calls `record()` once per HTTP attempt (a retry is a second request), so tests and the sync
layer can assert exactly how many round trips an operation cost.

Observers (`add_observer`) see every record too, for as long as the process runs: the sync
layer installs one that turns requests into metrics and log lines. An observer that raises is
logged and skipped, never turned into a failure of the request it observed.
"""

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request: effective method, entity set, status (None if no answer), milliseconds, query string."""

    method: str
    entity_set: str
    status: int | None
    ms: float
    attempt: int = 1
    query: str = ""

    def option(self, name):
        """The decoded value of a query option (`"$select"`), or None if the request had none."""
        return dict(parse_qsl(self.query, keep_blank_values=True)).get(name)


@dataclass
class RequestCounter:
    """The requests seen while one `count_requests()` block was active."""

    requests: list = field(default_factory=list)

    @property
    def count(self):
        """How many requests were made."""
        return len(self.requests)


log = logging.getLogger("cdms_api.counting")
_lock = threading.Lock()
_active = []
_observers = []


def record(entry):
    """Add one request record to every active counter and pass it to every observer."""
    with _lock:
        for counter in _active:
            counter.requests.append(entry)
        observers = list(_observers)
    for observer in observers:
        try:
            observer(entry)
        except Exception:  # a broken metric or log line must not fail the CRM request
            log.exception("observer %r failed on a CRM request record", observer)


def add_observer(callback):
    """Call `callback(record)` for every request from now on (once, however often added)."""
    with _lock:
        if callback not in _observers:
            _observers.append(callback)


def remove_observer(callback):
    """Stop calling `callback`."""
    with _lock:
        if callback in _observers:
            _observers.remove(callback)


@contextmanager
def count_requests():
    """Count the CRM requests made (by any thread) inside the block."""
    counter = RequestCounter()
    with _lock:
        _active.append(counter)
    try:
        yield counter
    finally:
        with _lock:
            _active.remove(counter)
