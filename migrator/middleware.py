"""Middleware of the sync layer: one sync scope per request (see `scope`).

CRM failures outside the API become gateway pages through `core.middleware`, with the
answers this app registers (`failures`).
"""

from .scope import sync_scope


class SyncScopeMiddleware:
    """Each request fetches a given set of CRM rows at most once (see `scope`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with sync_scope():
            return self.get_response(request)
