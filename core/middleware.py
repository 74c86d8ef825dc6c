"""Request middleware that outlives the CRM: a writing request is one transaction; error pages.

A request that may write (any method but GET, HEAD, OPTIONS) runs in one atomic block, rolled
back when it answers with an error status, so a view doing several writes is all or nothing
(the sync layer undoes its CRM writes with the block).

Error pages outside the API: a registered failure (see `api_errors`) answers with its status and a page.

The REST API answers registered failures itself as JSON; these pages cover the rest of the
site, so that, say, a CRM that is down shows a short 503/504/502 page saying so instead of a
server error. Inside the admin, a staff user sees it in the admin's own frame (header,
breadcrumbs, styles), with the way back; elsewhere it is a plain page.
"""

from django.contrib import admin
from django.db import transaction
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from .api_errors import answer_for

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{detail}</p>
<p>Nothing was changed. Try again in a moment; if this persists, tell whoever runs the service.</p>
</body></html>
"""


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class WritingRequestUnitMiddleware:
    """Run a request that may write in one transaction; an error answer rolls it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in SAFE_METHODS:
            return self.get_response(request)
        with transaction.atomic():
            response = self.get_response(request)
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response


class ErrorPageMiddleware:
    """Answer a registered failure outside the API with its status and a plain page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        """Return the failure's page, or None to let Django handle the exception."""
        answer = answer_for(exception, f"{request.method} {request.path}")
        if answer is None:
            return None
        title = f"{answer.title} ({answer.status})"
        detail = answer.body(exception)["detail"]
        if _in_admin(request):
            context = {**admin.site.each_context(request), "title": title, "detail": detail}
            return TemplateResponse(request, "core/admin_error.html", context, status=answer.status).render()
        return HttpResponse(PAGE.format(title=escape(title), detail=escape(detail)), status=answer.status)


def _in_admin(request):
    try:
        root = reverse("admin:index")
    except NoReverseMatch:
        return False
    user = getattr(request, "user", None)
    return request.path.startswith(root) and bool(user and user.is_active and user.is_staff)
