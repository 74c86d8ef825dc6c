"""Time windows over ModifiedOn: how an import splits one CRM entity into independent parts.

A window is a half-open range [start, end) of whole UTC seconds. Windows are computed from
the run's (start, end, count) alone, so a resumed run gets exactly the same windows back.
"""

import datetime as dt
from dataclasses import dataclass

from cdms_api.fields import DateTimeField

MODIFIED_ON = DateTimeField("ModifiedOn")
MIN_SECONDS = 300


@dataclass(frozen=True)
class Window:
    """One [start, end) slice of ModifiedOn, numbered `index` within its run."""

    index: int
    start: dt.datetime
    end: dt.datetime

    def filter(self):
        """The OData $filter that selects the window's records."""
        start, end = MODIFIED_ON.literal(self.start), MODIFIED_ON.literal(self.end)
        return f"ModifiedOn ge {start} and ModifiedOn lt {end}"


def split(start, end, count):
    """At most `count` windows of (nearly) equal whole-second length covering [start, end).

    A window is never shorter than `MIN_SECONDS`: an incremental run over a few minutes
    does not need a request per worker.
    """
    seconds = max(int((end - start).total_seconds()), 1)
    count = max(1, min(count, -(-seconds // MIN_SECONDS)))
    bounds = [start + dt.timedelta(seconds=seconds * i // count) for i in range(count)] + [end]
    return [Window(i, bounds[i], bounds[i + 1]) for i in range(count)]


def whole_second(moment):
    """`moment` truncated to a whole second (the CRM's precision)."""
    return moment.replace(microsecond=0)
