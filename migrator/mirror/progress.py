"""Progress of long commands: a bar (tqdm) on a terminal, periodic lines in a log.

On a terminal a bar shows rows done, rate and ETA. When the output is not a terminal (a log
file, a container's output, CI) a bar would be either hidden or thousands of carriage returns,
so a line is written every few seconds instead: rows done, rows a second and the ETA, which
comes from the share of equal parts (windows) done.
"""

import time

from tqdm import tqdm


def rows_bar(description, total=None, enabled=True):
    """A bar counting rows; hidden when stderr is not a terminal or when `enabled` is false."""
    return tqdm(
        desc=description,
        total=total,
        unit=" rows",
        unit_scale=True,
        dynamic_ncols=True,
        disable=None if enabled else True,
        smoothing=0.1,
    )


def estimate_total(bar, parts_done, parts):
    """Set the bar's total from the share of equal parts done, so tqdm can show an ETA."""
    if parts_done:
        bar.total = bar.n if parts_done >= parts else max(bar.n, round(bar.n * parts / parts_done))
        bar.refresh()


class RowsLog:
    """Writes `label: N rows, R rows/s, ETA E` through `write` at most every `every` seconds."""

    def __init__(self, label, write, every=5.0, clock=time.monotonic):
        self.label, self.write, self.every, self.clock = label, write, every, clock
        self.started = self.last = clock()
        self.rows, self.parts_done, self.parts = 0, 0, 0
        self.lines = 0

    def update(self, rows):
        """Count `rows` more; write a line if the last one is `every` seconds old."""
        self.rows += rows
        self._maybe_write()

    def advance_to(self, rows):
        """Set the rows done (a count read from the database); write a line if one is due."""
        self.rows = max(self.rows, rows)
        self._maybe_write()

    def parts_progress(self, done, parts):
        """Record that `done` of `parts` equal parts are finished (for the ETA)."""
        self.parts_done, self.parts = done, parts

    def finish(self):
        """Write the closing line: rows, seconds and rate."""
        seconds = self.clock() - self.started
        rate = self._rate(seconds)
        self.write(f"{self.label}: done, {self.rows:,} rows in {seconds:,.1f} s ({rate:,.0f} rows/s)")
        self.lines += 1

    def _maybe_write(self):
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        seconds = now - self.started
        rate, eta = self._rate(seconds), self._eta(seconds)
        self.write(f"{self.label}: {self.rows:,} rows, {rate:,.0f} rows/s, ETA {eta}")
        self.lines += 1

    def _rate(self, seconds):
        return self.rows / seconds if seconds > 0 else 0.0

    def _eta(self, seconds):
        if not self.parts_done or not self.parts:
            return "unknown"
        left = seconds * (self.parts - self.parts_done) / self.parts_done
        return f"{left:,.0f} s ({self.parts_done}/{self.parts} windows done)"


class Quiet:
    """A RowsLog that writes nothing (on a terminal, or with --no-progress)."""

    def update(self, rows):
        """Ignore."""

    def advance_to(self, rows):
        """Ignore."""

    def parts_progress(self, done, parts):
        """Ignore."""

    def finish(self):
        """Ignore."""
