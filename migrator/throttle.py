"""Log a repeating condition at most once a period, saying how many times it repeated meanwhile.

A follower polling a CRM that is down, or a mirror staying stale, meets the same condition many
times a second; one line a minute per condition tells an operator as much, and keeps the log
readable. Conditions are told apart by a key (entity, what failed, the kind of error).
"""

import threading
import time

EVERY_SECONDS = 60.0


class Throttle:
    """Decide, per key, whether a line may be logged now, and count those held back."""

    def __init__(self, every=EVERY_SECONDS, clock=time.monotonic):
        self.every = every
        self.clock = clock
        self._last = {}
        self._held = {}
        self._lock = threading.Lock()

    def admit(self, key):
        """Return None to hold the line back, or how many lines of `key` were held back before it."""
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.every:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            self._last[key] = now
            return self._held.pop(key, 0)

    def forget(self):
        """Forget every key: the next line of each is logged."""
        with self._lock:
            self._last.clear()
            self._held.clear()


def repeated(held, every=EVERY_SECONDS):
    """The suffix of a line that stood for `held` others (empty when none)."""
    return f" (and {held} more like it in the last {every:.0f} s)" if held else ""
