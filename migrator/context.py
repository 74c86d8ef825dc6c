"""`skip_cdms()`: a context manager and decorator that keeps the CRM out of a block of code.

Bulk jobs (imports, fixtures, repairs) use it to read and write the local database only.
The flag lives in a context variable, so it is per thread and per asyncio task.
"""

from contextlib import ContextDecorator
from contextvars import ContextVar

_skipping = ContextVar("cdms_skipping", default=False)


def is_skipping():
    """True inside a `skip_cdms()` block."""
    return _skipping.get()


class skip_cdms(ContextDecorator):  # noqa: N801 - reads as a function at the call site
    """Inside this block (or decorated function) no ORM operation calls the CRM."""

    def __init__(self):
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_skipping.set(True))
        return self

    def __exit__(self, *exc_info):
        _skipping.reset(self._tokens.pop())
        return False
