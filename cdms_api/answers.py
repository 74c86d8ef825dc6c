"""Reading the CRM's HTTP answers: JSON envelopes and error bodies.

A good answer is JSON `{"d": {...}}` (a collection has a `results` list); anything else with a
2xx status (the HTML sign-in page of an expired claims session, a truncated body, a proxy's
page) is CDMSUnexpectedResponseError, never data. An error answer becomes the exception class of
its status, with the CRM code and message read from the error body when there is one.
"""

import json

from . import crm_codes
from .exceptions import (
    CDMSBadRequestError,
    CDMSDuplicateKeyError,
    CDMSForbiddenError,
    CDMSNotFoundError,
    CDMSRequestTooLongError,
    CDMSServerError,
    CDMSUnauthorizedError,
    CDMSUnavailableError,
    CDMSUnexpectedResponseError,
)

_BY_STATUS = {
    400: CDMSBadRequestError,
    401: CDMSUnauthorizedError,
    403: CDMSForbiddenError,
    404: CDMSNotFoundError,
    503: CDMSUnavailableError,
}


def _json(response):
    try:
        # JSON is UTF-8 by definition; json.loads detects it from the bytes.
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def _crm_error(response):
    """Return (code, message) from a CRM error body, or (None, a short text of the body)."""
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        text = message.get("value") if isinstance(message, dict) else message
        return (str(error["code"]) if error.get("code") is not None else None), str(text or "")
    return None, response.reason or ""


def error_for(response, method, url):
    """Return the CDMSError for a non-2xx answer."""
    code, message = _crm_error(response)
    status = response.status_code
    if status < 400:
        cls, message = CDMSUnexpectedResponseError, "redirected (to a sign-in page?) instead of answered"
    elif status == 404 and code is None and "html" in response.headers.get("Content-Type", "").lower():
        # IIS request filtering (404.14 URL too long, 404.15 query string too long): no CRM body.
        cls, message = CDMSRequestTooLongError, "the server refused the request as too long (IIS 404)"
    elif status in _BY_STATUS:
        cls = _BY_STATUS[status]
    elif code == crm_codes.DUPLICATE_KEY:
        cls = CDMSDuplicateKeyError
    else:
        cls = CDMSServerError if status >= 500 else CDMSBadRequestError
    return cls(message, status=status, code=code, method=method, url=url)


def payload(response, method, url):
    """Return the parsed `{"d": ...}` JSON of a 2xx answer, or None for an empty one."""
    if response.status_code == 204 or not response.content:
        return None
    content_type = response.headers.get("Content-Type", "")
    body = _json(response) if "json" in content_type.lower() else None
    problem = _shape_problem(body)
    if problem:
        raise CDMSUnexpectedResponseError(
            f"{problem} (Content-Type {content_type or 'missing'})",
            status=response.status_code,
            method=method,
            url=url,
        )
    return body


def document(response, method, url):
    """Return the EDMX bytes of a 2xx `$metadata` answer (an HTML sign-in page is not one)."""
    content_type = response.headers.get("Content-Type", "")
    if "xml" not in content_type.lower() or b"Edmx" not in response.content[:2048]:
        raise CDMSUnexpectedResponseError(
            f"the answer is not a $metadata document (Content-Type {content_type or 'missing'})",
            status=response.status_code,
            method=method,
            url=url,
        )
    return response.content


def _shape_problem(body):
    if body is None:
        return "the answer is not JSON"
    if not isinstance(body, dict) or not isinstance(body.get("d"), dict):
        return "the JSON answer has no 'd' object"
    if "results" in body["d"] and not isinstance(body["d"]["results"], list):
        return "the JSON answer's 'results' is not a list"
    return None
