"""Middleware that runs each web request in one sync scope (see `scope`)."""

from .scope import sync_scope


class SyncScopeMiddleware:
    """Each request fetches a given set of CRM rows at most once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with sync_scope():
            return self.get_response(request)
