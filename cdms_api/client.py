"""The CRM 2011 OData client: one request path, and the operations built on it.

Every HTTP call goes through `CDMSClient.request()`, which adds `Accept: application/json`,
applies the (connect, read) timeouts, renews the auth once on a 401, retries idempotent
requests with bounded backoff, logs and counts each attempt, and turns every failure into a
`CDMSError`. With AD FS claims auth it signs the session in first, and again once when the CRM
says the session ended (`adfs`). The operations (`list`, `get`, `create`, `update`, `delete`) only build paths and
bodies and unwrap the `{"d": ...}` envelope. Records are returned as the CRM sends them.
"""

import datetime as dt
import logging
import time
from urllib.parse import urlsplit, urlunsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from . import answers, counting, odata
from .auth import renew
from .clock import read_date
from .exceptions import (
    CDMSConnectionError,
    CDMSDuplicateKeyError,
    CDMSError,
    CDMSNotFoundError,
    CDMSRequestTooLongError,
    CDMSTimeoutError,
    CDMSUnauthorizedError,
    CDMSUnavailableError,
    CDMSUnexpectedResponseError,
)
from .retry import RetryPolicy

log = logging.getLogger("cdms_api")

SERVICE_PATH = "/XRMServices/2011/OrganizationData.svc"
ACCEPT = {"Accept": "application/json"}
# CRM 2011 clients tunnel MERGE through POST (proxies drop unknown verbs).
TUNNELLED = frozenset({"MERGE"})
RETRYABLE = (CDMSConnectionError, CDMSUnavailableError)
# IIS request filtering in front of CRM 2011 (maxUrl, maxQueryString), counted after
# percent-encoding; past them it answers an HTML 404.14/404.15. A deployment may raise them.
MAX_URL_BYTES = 4096
MAX_QUERY_BYTES = 2048
# Room kept for the `$skiptoken` that the CRM adds to a `__next` link.
SKIPTOKEN_ROOM = 256


def _timeouts(timeout):
    if isinstance(timeout, tuple):
        connect, read = timeout
    else:
        connect = read = timeout
    if not connect or not read or connect <= 0 or read <= 0:
        raise ValueError("every CRM request needs positive connect and read timeouts")
    return (float(connect), float(read))


def _connection_error(exc, method, url):
    if isinstance(exc, requests.Timeout) or any(isinstance(arg, ReadTimeoutError) for arg in exc.args):
        return CDMSTimeoutError(f"timed out: {exc}", method=method, url=url)
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return CDMSConnectionError(f"connection failed: {exc}", method=method, url=url)
    return CDMSError(f"request failed: {exc}", method=method, url=url)


class CDMSClient:
    """A client for the CRM 2011 OData endpoint under `base_url`.

    Not thread-safe: use one client per thread. It keeps one `requests.Session` (whose
    thread safety is not documented) so connections stay alive, and NTLM authenticates each
    connection, so sharing a client between threads could mix handshakes.
    """

    def __init__(
        self,
        base_url,
        auth=None,
        timeout=30.0,
        session=None,
        max_retries=3,
        backoff=0.25,
        max_retry_seconds=30.0,
        max_url_bytes=MAX_URL_BYTES,
        max_query_bytes=MAX_QUERY_BYTES,
        key_attributes=None,
    ):
        parts = urlsplit(base_url)
        if parts.username or parts.password:
            raise ValueError("put CRM credentials in `auth`, not in the base URL")
        self.base_url = base_url.rstrip("/")
        self.service_root = self.base_url + SERVICE_PATH
        self.timeout = _timeouts(timeout)
        self.auth = auth
        self.session = session if session is not None else requests.Session()
        self.retry = RetryPolicy(max_retries, backoff, max_retry_seconds)
        self.max_url_bytes = max_url_bytes
        self.max_query_bytes = max_query_bytes
        # Entities keyed otherwise than `<entity>Id` (activities: `ActivityId`), by entity name.
        self.key_attributes = {} if key_attributes is None else key_attributes
        # The `Date` of the latest answer (a `clock.DateReading`): the CRM's clock, read here.
        self.last_date = None
        # A claims (AD FS) session: signed in before the first request, again when it ends.
        self._signed_in = False

    def close(self):
        """Close the kept-alive connections."""
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # The one request path.

    def request(self, method, path, *, params=None, json=None, idempotent):
        """Send one CRM request (retried only if `idempotent`); return its JSON, or None if empty."""
        url = self.url(path, params)
        return self._retrying(method, url, json, idempotent, answers.payload)

    def metadata(self):
        """Return the service's `$metadata` document (EDMX bytes)."""
        return self._retrying("GET", self.url("$metadata"), None, True, answers.document)

    def _retrying(self, method, url, json, idempotent, read):
        started = self.retry.clock()
        attempt = 1
        while True:
            try:
                return read(self._send(method, url, json, attempt), method, url)
            except RETRYABLE as exc:
                exc.attempt = attempt
                wait = self.retry.delay(attempt, started) if idempotent else None
                if wait is None:
                    raise
                self._log_retry(method, url, exc, attempt, wait)
                self.retry.sleep(wait)
                attempt += 1
            except CDMSError as exc:
                exc.attempt = attempt
                raise

    def url(self, path, params=None):
        """Return the absolute URL of a service path (or of a CRM `__next` link) plus query options."""
        if path[:8].lower().startswith(("http://", "https://")):
            url = self._rebase(path)
        else:
            url = f"{self.service_root}/{path.lstrip('/')}"
        if params:
            query = odata.query_string(**params)
            url = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
        self._check_length(url)
        return url

    def _check_length(self, url):
        query = urlsplit(url).query
        if len(url) > self.max_url_bytes or len(query) > self.max_query_bytes:
            raise CDMSRequestTooLongError(
                f"the URL is {len(url)} bytes with a {len(query)}-byte query string; the server in front of "
                f"the CRM accepts at most {self.max_url_bytes} and {self.max_query_bytes}",
                method="GET",
                url=url[:200],
            )

    def filter_room(self, entity, **options):
        """Return the encoded length a `$filter` may have in a list request with these other options."""
        url = self.url(odata.entity_set(entity), options)
        query = urlsplit(url).query
        taken = len("&$filter=") + SKIPTOKEN_ROOM
        return min(self.max_query_bytes - len(query), self.max_url_bytes - len(url)) - taken

    def _rebase(self, link):
        # Behind a proxy the CRM may write its own host or scheme into `__next`: keep only the
        # path and query, and never send a request (or credentials) outside the service root.
        parts = urlsplit(link)
        if self.below_root(parts.path) is None:
            raise CDMSUnexpectedResponseError("the CRM linked outside its service root", url=link)
        return urlunsplit(urlsplit(self.service_root)._replace(path=parts.path, query=parts.query, fragment=""))

    def below_root(self, path):
        """The part of a URL path below the service root ("" for the root), or None if outside it.

        IIS compares paths case-insensitively, and real answers mix `/XRMServices/` and
        `/xrmservices/`, so the root is matched in any case.
        """
        root = urlsplit(self.service_root).path
        head, rest = path[: len(root)], path[len(root) :]
        if head.lower() != root.lower() or rest[:1] not in ("", "/"):
            return None
        return rest.lstrip("/")

    def _send(self, method, url, body, attempt):
        if self._signs_in and not self._signed_in:
            self._sign_in()
        response = self._http(method, url, body, attempt)
        if self._refused(response):
            # The CRM refused before handling the request (a 401, or an ended claims session),
            # so sending it again after renewing the auth cannot apply it twice.
            self._renew_auth()
            response = self._http(method, url, body, attempt)
            if self._signs_in and self._refused(response):
                raise CDMSUnauthorizedError(
                    "the CRM ended the claims session again right after signing in through AD FS",
                    status=response.status_code,
                    method=method,
                    url=url,
                )
        if not 200 <= response.status_code < 300:
            raise answers.error_for(response, method, url)
        return response

    @property
    def _signs_in(self):
        """True when the auth signs a session in (claims through AD FS) instead of each connection."""
        return hasattr(self.auth, "sign_in")

    def _refused(self, response):
        if self._signs_in:
            return self.auth.session_ended(response)
        return response.status_code == 401

    def _sign_in(self):
        self._signed_in = False
        self.auth.sign_in(self.session, self.base_url, self.timeout)
        self._signed_in = True

    def _renew_auth(self):
        if self._signs_in:
            return self._sign_in()
        # NTLM state lives on the TCP connection: a fresh auth object needs fresh connections.
        self.auth = renew(self.auth)
        for adapter in self.session.adapters.values():
            adapter.close()

    def _http(self, method, url, body, attempt):
        verb, headers = method, dict(ACCEPT)
        if method in TUNNELLED:
            verb, headers["X-HTTP-Method"] = "POST", method
        status, start = None, time.perf_counter()
        try:
            response = self.session.request(
                verb,
                url,
                headers=headers,
                json=body,
                auth=self.auth,
                timeout=self.timeout,
                allow_redirects=False,
            )
            status = response.status_code
            self.last_date = read_date(response.headers.get("Date"), dt.datetime.now(dt.UTC)) or self.last_date
            return response
        except requests.RequestException as exc:
            raise _connection_error(exc, method, url) from None
        finally:
            self._observe(method, url, status, (time.perf_counter() - start) * 1000, attempt)

    def _observe(self, method, url, status, ms, attempt):
        name = self.entity_set_of(url)
        counting.record(counting.RequestRecord(method, name, status, ms, attempt))
        log.debug("%s %s -> %s in %.0f ms (attempt %d)", method, name, status or "no answer", ms, attempt)

    def _log_retry(self, method, url, exc, attempt, wait):
        log.warning(
            "%s %s failed (%s, HTTP %s); retry %d of %d in %.2f s",
            method,
            self.entity_set_of(url),
            type(exc).__name__,
            exc.status or "none",
            attempt,
            self.retry.max_retries,
            wait,
        )

    def entity_set_of(self, url):
        """Return the entity set a service URL addresses (for logs and counters)."""
        path = urlsplit(url).path
        rest = self.below_root(path)
        rest = path if rest is None else rest
        for stop in "(/":
            rest = rest.split(stop, 1)[0]
        return rest

    # Operations.

    def _data(self, method, path, **kwargs):
        payload = self.request(method, path, **kwargs)
        if payload is None:
            raise CDMSUnexpectedResponseError("empty answer", method=method, url=self.url(path))
        return payload["d"]

    def _record(self, method, path, **kwargs):
        data = self._data(method, path, **kwargs)
        if "results" in data:
            raise CDMSUnexpectedResponseError(
                "a collection instead of a record", method=method, url=self.url(path)
            )
        return data

    def list(self, entity, *, filter=None, orderby=None, select=None, top=None, skip=None, expand=None):
        """Yield the matching records one page (a list) at a time, following `__next`."""
        params = {
            "filter": filter,
            "orderby": orderby,
            "select": select,
            "top": top,
            "skip": skip,
            "expand": expand,
        }
        url = self.url(odata.entity_set(entity), params)
        while url:
            data = self._data("GET", url, idempotent=True)
            if "results" not in data:
                raise CDMSUnexpectedResponseError("a record instead of a collection", method="GET", url=url)
            yield data["results"]
            link = data.get("__next")
            if link is not None and not isinstance(link, str):
                raise CDMSUnexpectedResponseError("a '__next' that is not a URL", method="GET", url=url)
            url = link

    def get(self, entity, key, *, select=None):
        """Return one record by key (only the `select` attributes if given)."""
        params = {"select": select} if select else None
        return self._record("GET", odata.key_path(entity, key), params=params, idempotent=True)

    def key_attribute(self, entity):
        """The primary key attribute of an entity: `<entity>Id` unless `key_attributes` names another."""
        return self.key_attributes.get(entity) or odata.key_attribute(entity)

    def create(self, entity, data, *, key=None):
        """Create a record and return it in full; with a `key` the create is safe to retry."""
        body = dict(data)
        attribute = self.key_attribute(entity)
        key = key or body.get(attribute)
        if key is not None:
            body[attribute] = key = odata.guid(key)
        try:
            return self._record("POST", odata.entity_set(entity), json=body, idempotent=key is not None)
        except CDMSDuplicateKeyError as exc:
            # A retry answering "duplicate key" means an earlier attempt did create the record
            # but its answer was lost: read it back instead of failing.
            if key is None or exc.attempt == 1:
                raise
            log.info("%s create with key was already applied; reading the record back", entity)
            return self.get(entity, key)

    def update(self, entity, key, data):
        """Change exactly the attributes in `data` (a MERGE)."""
        self.request("MERGE", odata.key_path(entity, key), json=dict(data), idempotent=True)

    def delete(self, entity, key):
        """Delete a record."""
        try:
            self.request("DELETE", odata.key_path(entity, key), idempotent=True)
        except CDMSNotFoundError as exc:
            # A retry answering 404 means an earlier attempt deleted it but its answer was lost.
            if exc.attempt == 1:
                raise
            log.info("%s delete was already applied", odata.entity_set(entity))
