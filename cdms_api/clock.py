"""The CRM's clock, as its answers show it: the `Date` header beside this machine's time.

The CRM stamps `CreatedOn` and `ModifiedOn` with its own clock, which may be tens of seconds or
minutes off this machine's. Anything compared with `ModifiedOn` must be a time on that clock:
a `ModifiedOn` the CRM returned, or the `Date` of one of its answers. A `DateReading` keeps
both sides of one answer, so a caller can take the CRM's time and measure the skew, never
mixing the two.
"""

import datetime as dt
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class DateReading:
    """The `Date` of one CRM answer (`crm`, whole seconds) and this machine's time when it arrived."""

    crm: dt.datetime
    local: dt.datetime

    @property
    def skew_seconds(self):
        """How far the CRM's clock is ahead of this machine's (negative: behind), to about a second."""
        return (self.crm - self.local).total_seconds()


def read_date(header, local):
    """A DateReading of a `Date` header (None when absent or unreadable)."""
    if not header:
        return None
    try:
        crm = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if crm.tzinfo is None:
        crm = crm.replace(tzinfo=dt.UTC)
    return DateReading(crm.astimezone(dt.UTC), local)
