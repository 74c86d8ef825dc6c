"""The WSGI application: authentication, faults, latency, routing and CRM-style answers.

Reads and writes are answered in JSON when the client sends `Accept: application/json`, as CRM
2011 clients must; otherwise in Atom XML like WCF Data Services (415 for media types it cannot
produce). Every failure, including unexpected ones, is a CRM error body, never a bare 500 page.
"""

import logging
import time
import traceback
from email.utils import formatdate
from urllib.parse import quote

from .answers import Response, error_response, json_response
from .atom import check_acceptable, render_atom, wants_json
from .control import control
from .errors import CRMError
from .reads import read
from .routing import SERVICE_PATH, Call, route, service_path
from .writes import check_size, write

log = logging.getLogger(__name__)
TUNNELLED = ("MERGE", "PUT", "DELETE")
ALLOWED = {"collection": ("GET", "POST"), "record": ("GET", "MERGE", "PUT", "DELETE"), "other": ("GET",)}
SIGN_IN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Sign In</title></head><body>"
    b'<form method="post" action="/adfs/ls/"><input name="UserName"/><input name="Password" type="password"/>'
    b'<input type="submit" value="Sign in"/></form></body></html>'
)
TOO_LONG_PAGE = (
    "<!DOCTYPE html><html><head><title>404 - File or directory not found.</title></head><body>"
    "<h2>HTTP Error 404.{sub} - Not Found</h2><p>The request filtering module is configured to deny a "
    "request {what}.</p></body></html>"
)


STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def status_line(code):
    """`"404 Not Found"`."""
    return f"{code} {STATUS_TEXT.get(code, 'Error')}"


class App:
    """The emulator's WSGI callable."""

    def __init__(self, emulator):
        self.emu = emulator

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"] = service_path(environ.get("PATH_INFO", ""))
        too_long = self.too_long(environ)
        if too_long is not None:
            return self.send(start_response, too_long)
        if path.startswith("/_emulator/"):
            response = control(self.emu, environ)
        elif self.emu.adfs is not None and self.emu.adfs.handles(path):
            response = self.emu.adfs.answer(environ)
        elif path == SERVICE_PATH or path.startswith(SERVICE_PATH + "/"):
            return self.service(environ, start_response)
        else:
            response = error_response(CRMError(404, f"The resource '{path}' does not exist."))
        return self.send(start_response, response)

    def too_long(self, environ):
        """IIS's HTML 404.14/404.15 when the URL or query string is past its limit, else None."""
        query = environ.get("QUERY_STRING", "")
        # PEP 3333: PATH_INFO holds the decoded bytes as latin-1; count them encoded, as IIS does.
        path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/()',:=$@!*+;")
        if len(query) > self.emu.max_query_bytes:
            sub, what = 15, "where the query string is too long"
        elif len(path) + 1 + len(query) > self.emu.max_url_bytes:
            sub, what = 14, "where the URL is too long"
        else:
            return None
        self.emu.stats.record(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        body = TOO_LONG_PAGE.format(sub=sub, what=what).encode()
        return Response(404, [("Content-Type", "text/html")], body)

    def send(self, start_response, response, cut=False):
        """Start the WSGI response; with `cut` send only part of the body, then drop the connection."""
        headers = [*response.headers, ("Content-Length", str(len(response.body))), ("Date", self.date())]
        start_response(status_line(response.status), headers)
        if not cut:
            return [response.body]
        # Fewer bytes than Content-Length: the server closes the connection mid-body.
        return iter([response.body[: len(response.body) // 2]])

    def date(self):
        """The `Date` header: the CRM server's clock (RFC 7231, whole seconds)."""
        return formatdate(self.emu.store.now_ms() / 1000, usegmt=True)

    def service(self, environ, start_response):
        """Answer a request under the service root."""
        as_json = wants_json(environ.get("HTTP_ACCEPT", ""))
        if self.emu.adfs is not None:
            ended = self.emu.adfs.check(environ)  # before the request is handled, as the CRM does
            if ended is not None:
                return self.send(start_response, ended)
        if self.emu.ntlm is not None:
            challenge = self.emu.ntlm.check(environ)
            if challenge is not None:
                error = CRMError(401, "The request requires Windows authentication.")
                return self.send(start_response, error_response(error, as_json, challenge))
        call = self.make_call(environ)
        self.emu.stats.record(call.method, call.path)
        if self.emu.latency_ms:
            time.sleep(self.emu.latency_ms / 1000)
        entity_set = _entity_set_of(call.path, self.emu.store.schema)
        fault = self.emu.faults.take(call.method, entity_set)
        if fault and not fault.after:
            response = self.fault_response(fault, None)
            if response is not None:
                return self.send(start_response, response, cut=fault.kind == "cut")
        response = self.handle(environ, call, as_json)
        if fault and fault.after:
            response = self.fault_response(fault, response) or response
        return self.send(start_response, response, cut=bool(fault) and fault.kind == "cut")

    def make_call(self, environ):
        """The Call of a WSGI request (effective method, root URL, body)."""
        method = environ.get("REQUEST_METHOD", "GET").upper()
        tunnelled = environ.get("HTTP_X_HTTP_METHOD", "").upper()
        if method == "POST" and tunnelled in TUNNELLED:
            method = tunnelled
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        root = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{self.emu.next_link_path}"
        call = Call(method, environ.get("PATH_INFO", ""), root, environ.get("QUERY_STRING", ""))
        return call

    def fault_response(self, fault, response):
        """The answer an armed fault gives instead of (or, `after`, in place of) `response`."""
        if fault.kind == "status":
            return error_response(CRMError(fault.status, f"Injected fault: HTTP {fault.status}."))
        if fault.kind == "html":
            return Response(200, [("Content-Type", "text/html; charset=utf-8")], SIGN_IN_PAGE)
        if fault.kind == "cut":
            if response is None or not response.body:
                return json_response(200, {"d": {"results": [{"Name": "x" * 64}] * 4}})
            return response
        if self.emu.faults.hang(fault):
            return error_response(CRMError(503, "The service is unavailable (released)."))
        return response

    def handle(self, environ, call, as_json):
        """Route and answer a service request; every error becomes a CRM error body."""
        try:
            if not as_json:
                check_acceptable(environ.get("HTTP_ACCEPT", ""))
            route(call, self.emu.store.schema)
            _check_method(call)
            if call.method != "GET":
                call.body = _read_body(environ)
            return self.dispatch(call, as_json, environ)
        except CRMError as error:
            return error_response(error, as_json, _allow(call) if error.status == 405 else ())
        except Exception as exc:  # noqa: BLE001 - the server must answer, never crash
            log.error("Unexpected error: %s\n%s", exc, traceback.format_exc())
            return error_response(CRMError(500, f"Unexpected server error: {exc}"), as_json)

    def dispatch(self, call, as_json, environ):
        """Answer a routed request."""
        store, accept = self.emu.store, environ.get("HTTP_ACCEPT", "")
        if call.special == "metadata":
            return Response(200, [("Content-Type", "application/xml;charset=utf-8")], store.schema.document)
        if call.special == "service":
            sets = [e.set_name for e in store.schema]
            return json_response(200, {"d": {"EntitySets": sets}})
        if call.method == "GET":
            return self.render(200, [], read(store, call, self.emu.page_size), call, as_json, accept)
        status, headers, payload = write(store, call)
        if payload is None:
            return Response(status, headers)
        return self.render(status, headers, payload, call, as_json, accept)

    def render(self, status, headers, payload, call, as_json, accept):
        """A JSON `{"d": ...}` or Atom answer."""
        if as_json:
            return json_response(status, {"d": payload}, [("DataServiceVersion", "1.0;"), *headers])
        content_type, body = render_atom(payload, call, accept)
        return Response(status, [("Content-Type", content_type), *headers], body)


class STSApp(App):
    """The WSGI callable of an STS on its own port (`--auth adfs`)."""

    def __init__(self, emulator, sts):
        super().__init__(emulator)
        self.sts = sts

    def __call__(self, environ, start_response):
        return self.send(start_response, self.sts.answer(environ))


def _entity_set_of(path, schema):
    rest = path[len(SERVICE_PATH) :].lstrip("/")
    name = rest.split("(")[0].split("/")[0]
    return name if name in schema.by_set else None


def _kind(call):
    if call.special or call.prop:
        return "other"
    return "record" if call.key else "collection"


def _allow(call):
    return [("Allow", ", ".join(ALLOWED[_kind(call)]))]


def _check_method(call):
    if call.method not in ALLOWED[_kind(call)]:
        raise CRMError(405, f"The method '{call.method}' is not allowed on this resource.")


def _read_body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    check_size(length)
    return environ["wsgi.input"].read(length) if length else b""
