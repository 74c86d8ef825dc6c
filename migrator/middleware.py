"""Middleware of the sync layer: one sync scope per request, and CRM failures as gateway pages.

The REST API answers CRM failures itself (`api_errors`); these pages cover the rest of the
site, chiefly the admin, so that a CRM that is down shows a short 503/504/502 page saying so
instead of a server error.
"""

from django.http import HttpResponse
from django.utils.html import escape

from .api_errors import crm_failure
from .scope import sync_scope

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{detail}</p>
<p>Nothing was changed. Try again in a moment; if this persists, tell whoever runs the CRM.</p>
</body></html>
"""


class SyncScopeMiddleware:
    """Each request fetches a given set of CRM rows at most once (see `scope`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with sync_scope():
            return self.get_response(request)


class CDMSErrorPageMiddleware:
    """Answers a CRM failure outside the API with a gateway status and a plain page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        failure = crm_failure(exception, f"{request.method} {request.path}")
        if failure is None:
            return None
        status, _, detail = failure
        page = PAGE.format(title=f"The CRM could not be reached ({status})", detail=escape(detail))
        return HttpResponse(page, status=status)
