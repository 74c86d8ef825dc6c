"""How exceptions that DRF does not know become answers: a registry of kind → (status, code, detail).

DRF answers its own exceptions (validation, permissions, 404). Anything else a view raises
would be a 500; an app that knows what one of its exceptions means registers an `Answer`
for it, and both the API (`exception_handler`) and the other pages (`core.middleware`)
answer it with that status. The sync layer registers the CRM's failures (502/503/504) from
its `AppConfig.ready()`; when the CRM is retired nothing registers them and this module is
unchanged.

The most specific registered class wins (the exception's MRO is walked), so registering a
subclass after its base is fine. A registered failure rolls back the request: the revision
middleware wraps a write request in a transaction and a revision that already hold what
never fully happened.

A body larger than Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413 in the same shape
(`"code": "request_too_large"`), not the HTML 400 Django gives a request it finds suspicious.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from rest_framework import status
from rest_framework.response import Response
from reversion import revisions as reversion

log = logging.getLogger("core.api")
RETRY_AFTER_SECONDS = 30


@dataclass(frozen=True)
class Answer:
    """What to answer for one kind of exception.

    `detail` None means the exception's own message; `extra(exc)` adds fields to the JSON
    body; `title` heads the plain page that non-API requests get.
    """

    status: int
    code: str
    detail: str | None = None
    extra: Callable[[BaseException], dict] | None = None
    title: str = "The request could not be completed"

    def body(self, exc):
        """Return the JSON body for `exc`."""
        body = {"detail": self.detail if self.detail is not None else str(exc), "code": self.code}
        if self.extra is not None:
            body.update(self.extra(exc))
        return body

    def headers(self):
        """Return the response headers (Retry-After for 503)."""
        unavailable = self.status == status.HTTP_503_SERVICE_UNAVAILABLE
        return {"Retry-After": str(RETRY_AFTER_SECONDS)} if unavailable else {}


_answers: dict[type[BaseException], Answer] = {}


def register(kind, answer):
    """Answer exceptions of `kind` (and its subclasses without their own answer) with `answer`."""
    _answers[kind] = answer


def unregister(kind):
    """Forget the answer for `kind`."""
    _answers.pop(kind, None)


def answer_for(exc, where):
    """Return the registered Answer for `exc` (logged, the request rolled back), or None."""
    for kind in type(exc).__mro__:
        answer = _answers.get(kind)
        if answer is not None:
            log.warning("%s answered %d (%s): %s", where, answer.status, answer.code, exc)
            if reversion.is_active():
                transaction.set_rollback(True)
            return answer
    return None


def too_large_response():
    """Return the 413 for a request body over `DATA_UPLOAD_MAX_MEMORY_SIZE`, saying the limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    detail = f"The request body is larger than the {limit:,} bytes the service accepts; nothing was changed."
    log.warning("API answered 413 (request_too_large): %s", detail)
    body = {"detail": detail, "code": "request_too_large"}
    return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def exception_handler(exc, context):
    """DRF's handler, plus the registered answers and the 413 for a body over the size limit."""
    if isinstance(exc, RequestDataTooBig):
        return too_large_response()
    answer = answer_for(exc, "API")
    if answer is None:
        # Imported here: DRF imports the settings' classes while importing its views.
        from rest_framework.views import exception_handler as drf_exception_handler

        return drf_exception_handler(exc, context)
    return Response(answer.body(exc), status=answer.status, headers=answer.headers())


def registered_answers():
    """Every registered Answer (the API's schema documents their statuses and bodies)."""
    return list(_answers.values())
