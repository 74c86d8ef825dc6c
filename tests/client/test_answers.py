"""Reading answers and building errors, from hand-made responses, with no network."""

import json

import pytest
import requests

from cdms_api import answers, crm_codes
from cdms_api import exceptions as exc

URL = "http://crm.example/XRMServices/2011/OrganizationData.svc/AccountSet"


def _response(status, body=b"", content_type="application/json"):
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers["Content-Type"] = content_type
    response.reason = "Reason"
    return response


def _error_body(code, message="went wrong"):
    return {"error": {"code": code, "message": {"lang": "en-US", "value": message}}}


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, crm_codes.BAD_REQUEST, exc.CDMSBadRequestError),
        (401, crm_codes.UNAUTHORIZED, exc.CDMSUnauthorizedError),
        (403, crm_codes.FORBIDDEN, exc.CDMSForbiddenError),
        (404, crm_codes.NOT_FOUND, exc.CDMSNotFoundError),
        (405, crm_codes.METHOD_NOT_ALLOWED, exc.CDMSBadRequestError),
        (413, crm_codes.PAYLOAD_TOO_LARGE, exc.CDMSBadRequestError),
        (500, crm_codes.PAGING_LIMIT, exc.CDMSServerError),
        (500, crm_codes.DUPLICATE_KEY, exc.CDMSDuplicateKeyError),
        (503, crm_codes.SERVER_ERROR, exc.CDMSUnavailableError),
    ],
)
def test_error_class_by_status_and_code(status, code, cls):
    error = answers.error_for(_response(status, _error_body(code)), "GET", URL)
    assert type(error) is cls
    assert (error.status, error.code, error.message, error.method, error.url) == (
        status,
        code,
        "went wrong",
        "GET",
        URL,
    )
    assert f"HTTP {status}" in str(error) and code in str(error) and "AccountSet" in str(error)


def test_error_without_a_crm_body_keeps_the_status():
    error = answers.error_for(_response(502, b"<html>Bad gateway</html>", "text/html"), "DELETE", URL)
    assert type(error) is exc.CDMSServerError
    assert (error.status, error.code, error.message) == (502, None, "Reason")


def test_redirect_is_unexpected():
    error = answers.error_for(_response(302, b""), "GET", URL)
    assert isinstance(error, exc.CDMSUnexpectedResponseError)


def test_exception_hierarchy():
    assert issubclass(exc.CDMSTimeoutError, exc.CDMSConnectionError)
    assert issubclass(exc.CDMSUnavailableError, exc.CDMSServerError)
    assert issubclass(exc.CDMSDuplicateKeyError, exc.CDMSServerError)
    for name in exc.__dict__:
        if name.startswith("CDMS"):
            assert issubclass(getattr(exc, name), exc.CDMSError)


def test_urls_lose_their_userinfo():
    error = exc.CDMSNotFoundError("gone", status=404, method="GET", url="http://DOM%5Cjo:s3cret@crm/x?a=1")
    assert error.url == "http://crm/x?a=1"
    assert "s3cret" not in str(error) and "jo" not in str(error)
    assert exc.redact_url("http://crm/x") == "http://crm/x"
    assert exc.redact_url(None) is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Sign in</body></html>", "text/html"),
        (b'{"d": {"results": [{"Name": "Ac', "application/json"),
        (b'{"results": []}', "application/json"),
        (b'{"d": {"results": {"Name": "x"}}}', "application/json"),
        (b'{"d": [1, 2]}', "application/json"),
        (b'["d"]', "application/json"),
        (b'{"d": {}}', "text/html"),
    ],
)
def test_bodies_that_are_not_crm_json_are_unexpected(body, content_type):
    with pytest.raises(exc.CDMSUnexpectedResponseError) as raised:
        answers.payload(_response(200, body, content_type), "GET", URL)
    assert raised.value.status == 200 and raised.value.url == URL


def test_good_bodies():
    record = {"d": {"Name": "Acmé"}}
    assert answers.payload(_response(200, record, "application/json;charset=utf-8"), "GET", URL) == record
    assert answers.payload(_response(204), "MERGE", URL) is None
