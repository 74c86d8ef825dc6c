"""Request ids: one per web request, carried by every log line written while it is served.

The id comes from the caller's `X-Request-ID` header when it is a sane token (so a proxy's id
carries through), otherwise it is made here; the response echoes it. Code outside a web request
(a worker's task) can bind its own with `bound(...)`.

The id stays set until the request is finished, not only while the middleware runs, because
Django logs a response's 4xx/5xx status (`django.request`) after the middleware chain returns.
"""

import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_current = ContextVar("request_id", default=None)


def current():
    """Return the request id of the work under way, or None."""
    return _current.get()


@contextmanager
def bound(request_id=None):
    """Run the block under `request_id` (a new one if not given)."""
    token = _current.set(request_id or uuid.uuid4().hex)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def _incoming(request):
    value = request.headers.get(HEADER, "")
    return value if _SANE.match(value) else None


class RequestIdMiddleware:
    """Give each request an id, for its log lines and in the `X-Request-ID` response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = _incoming(request) or uuid.uuid4().hex
        _current.set(request.request_id)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


@receiver(request_finished, dispatch_uid="core.ops.request_id.forget")
def _forget(**kwargs):
    _current.set(None)


class RequestIdFilter:
    """A logging filter that puts the current request id on each record (`-` outside one)."""

    def filter(self, record):
        """Add `request_id` to the record; never drop it."""
        record.request_id = current() or "-"
        return True
