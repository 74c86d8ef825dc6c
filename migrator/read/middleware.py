"""Middleware of the sync layer: one sync scope per request (see `scope`), and a header saying
how fresh the request's synced reads were, and how stale a marked answer was (see `bounded`).

CRM failures outside the API become gateway pages through `core.middleware`, with the
answers this app registers (`failures`).
"""

from .bounded import answered_at
from .scope import sync_scope

# `strict`, or the oldest follower watermark (ISO 8601, UTC) a read of the response was answered at.
FRESHNESS_HEADER = "X-CDMS-Watermark"
# Seconds a watermark was past its bound when the mirror answered anyway (see `gate`): absent when fresh.
STALE_HEADER = "X-CDMS-Stale"


class SyncScopeMiddleware:
    """Each request fetches a given set of CRM rows at most once (see `scope`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with sync_scope(), answered_at() as freshness:
            response = self.get_response(request)
        header = freshness.header()
        if header is not None:
            response[FRESHNESS_HEADER] = header
        stale = freshness.stale_header()
        if stale is not None:
            response[STALE_HEADER] = stale
        return response
