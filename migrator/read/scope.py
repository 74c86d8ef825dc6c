"""Sync scopes: inside one unit of work (a web request), each distinct read is fetched once.

A list endpoint asks for `count()` and then for a page of the same queryset; without a scope
both would fetch the same CRM rows. Inside `sync_scope()`, a read whose remote filter was
already fetched in full reuses that fetch: the local rows were refreshed moments ago, and the
sync layer's own writes keep them matching the CRM. Changes made in the CRM by others during
the scope are seen by the next scope, as if the scope's reads had all happened at its start.
"""

from contextlib import ContextDecorator
from contextvars import ContextVar

_fetched = ContextVar("cdms_sync_scope", default=None)


class sync_scope(ContextDecorator):  # noqa: N801 - reads as a function at the call site
    """Inside this block each (model, remote filter) is fetched from the CRM at most once."""

    def __init__(self):
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_fetched.set({}))
        return self

    def __exit__(self, *exc_info):
        _fetched.reset(self._tokens.pop())
        return False


def fetched_keys(model, filter_text):
    """The keys fetched for this filter earlier in the scope, or None."""
    fetched = _fetched.get()
    return None if fetched is None else fetched.get((model._meta.label, filter_text))


def remember(model, filter_text, keys):
    """Record a complete fetch of this filter in the current scope (if any)."""
    fetched = _fetched.get()
    if fetched is not None:
        fetched[(model._meta.label, filter_text)] = frozenset(keys)
