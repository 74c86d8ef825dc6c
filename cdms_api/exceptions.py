"""Errors raised by the CRM client: one class per way a CRM call can fail.

Every error carries the HTTP status (None when no answer arrived), the CRM error code and
message from the error body, and the method and URL of the request. URLs are stored with any
`user:password@` part removed, and no error ever holds request headers, so credentials cannot
leak through `str(exc)` or a logged traceback.
"""

from urllib.parse import urlsplit, urlunsplit


def redact_url(url):
    """Return `url` without any userinfo (`user:password@`) part."""
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=host))


class CDMSError(Exception):
    """Base class of every failure talking to the CRM."""

    # Which attempt of a retried request failed; the client sets it (1 = the first).
    attempt = 1

    def __init__(self, message="", *, status=None, code=None, method=None, url=None):
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.url = redact_url(url)
        super().__init__(self._describe())

    def _describe(self):
        where = " ".join(part for part in (self.method, self.url) if part)
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        code = f" (CRM code {self.code})" if self.code else ""
        return f"{where}: {status}{code}: {self.message}" if where else f"{status}{code}: {self.message}"


class CDMSConnectionError(CDMSError):
    """The CRM could not be reached, or the connection broke before a full answer."""


class CDMSTimeoutError(CDMSConnectionError):
    """The CRM did not connect or answer within the timeout."""


class CDMSUnauthorizedError(CDMSError):
    """The CRM refused the credentials (401, after one fresh attempt)."""


class CDMSCredentialsRefusedError(CDMSUnauthorizedError):
    """The credentials were refused and are not sent again until the back-off passes (`refusals`)."""

    def __init__(self, message="", *, refusal=None, **kwargs):
        self.refusal = refusal
        super().__init__(message, **kwargs)

    def _describe(self):
        return self.message  # nothing was sent: no method, URL or status to name


class CDMSSignInError(CDMSUnauthorizedError):
    """The AD FS sign-in could not be completed (an error page, an unknown page, a hop it may not take)."""


class CDMSForbiddenError(CDMSError):
    """The CRM user lacks the privilege for this operation (403)."""


class CDMSNotFoundError(CDMSError):
    """The record or entity set does not exist (404)."""


class CDMSBadRequestError(CDMSError):
    """The CRM rejected the URI, filter, key or body (400 and other 4xx)."""


class CDMSValueError(CDMSBadRequestError, ValueError):
    """A value the CRM cannot store (`cdms_api.domains`), refused before any request is sent."""


class CDMSRequestTooLongError(CDMSBadRequestError):
    """The request's URL or query string is longer than the server in front of the CRM accepts."""


class CDMSServerError(CDMSError):
    """The CRM failed with a 5xx answer (business rules, paging limit, ...)."""


class CDMSUnavailableError(CDMSServerError):
    """The CRM is temporarily unavailable (503)."""


class CDMSDuplicateKeyError(CDMSServerError):
    """A create carried a key that already exists."""


class CDMSUnexpectedResponseError(CDMSError):
    """The answer is not the JSON the CRM should send (HTML page, truncated or wrong shape)."""
