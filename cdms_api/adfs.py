"""Claims-based sign-in through AD FS 2.0, as an internet-facing CRM 2011 deployment asks for.

An internet-facing (IFD) CRM 2011 takes no Windows auth: a request without a session is sent to
AD FS. Signing in walks HTML forms (the WS-Federation passive profile), as a browser would:

1. GET the CRM's root with `whr` (the AD FS to use); its redirects lead to the sign-in form.
2. POST the user name and password to that form, and only ever to the AD FS's own origin.
3. AD FS answers a form of hidden fields (`wa`, `wresult` with the token, `wctx`) that a browser
   posts on by script: post it to its action (the CRM, or AD FS again).
4. The CRM sets its session cookies (kept in the client's `requests.Session`) and redirects.

From then on the cookies authenticate every request. A session lasts some hours; after it the
CRM answers a 302 to the sign-in page, or a 200 HTML form, before handling the request, so the
client signs in once more and sends the request again (`CDMSClient._send`). No request or
redirect of a sign-in leaves the CRM's and the AD FS's origins. Nothing here logs or raises the
user name, the password, the token or a cookie: log lines name the step's path only.
"""

import logging
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from requests.auth import AuthBase

from . import counting
from .exceptions import CDMSConnectionError, CDMSUnauthorizedError, CDMSUnexpectedResponseError

log = logging.getLogger("cdms_api")

# Redirects and forms in one sign-in: one AD FS takes about five; room for a second STS hop.
MAX_STEPS = 12
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What counting and the logs call the requests of a sign-in.
SIGN_IN = "(sign-in)"


@dataclass
class Form:
    """One HTML form: where it posts, its fields, and which of them take the user and password."""

    action: str
    fields: dict = field(default_factory=dict)
    user_field: str | None = None
    password_field: str | None = None


class _Page(HTMLParser):
    """The forms of a page and the text of its error labels (`...ErrorTextLabel`)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.errors = [], []
        self._in_error = False

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(attrs.get("action", "")))
        elif tag == "input" and self.forms and attrs.get("name"):
            self._input(self.forms[-1], attrs)
        self._in_error = attrs.get("id", "").endswith("ErrorTextLabel")

    def _input(self, form, attrs):
        name, kind = attrs["name"], attrs.get("type", "text").lower()
        if kind == "password":
            form.password_field = name
        elif kind in ("text", "email") and (form.user_field is None or "user" in name.lower()):
            form.user_field = name
        if kind not in ("submit", "button", "image", "reset"):
            form.fields[name] = attrs.get("value", "")

    def handle_data(self, data):
        if self._in_error and data.strip():
            self.errors.append(data.strip())

    def handle_endtag(self, tag):
        self._in_error = False


def parse_page(text):
    """The `_Page` (forms, error texts) of an HTML text."""
    page = _Page()
    page.feed(text)
    page.close()
    return page


def _origin(url):
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def session_ended(response):
    """True if a CRM answer says the claims session is over: a redirect, a 401, or an HTML form."""
    if response.status_code in REDIRECTS or response.status_code == 401:
        return True
    html = "html" in response.headers.get("Content-Type", "").lower()
    return response.status_code == 200 and html and b"<form" in response.content[:65536].lower()


class ADFSAuth(AuthBase):
    """Sign-in through AD FS at `adfs_url` as `username` (DOMAIN\\user); the session cookies authenticate."""

    def __init__(self, adfs_url, username, password):
        parts = urlsplit(adfs_url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("AD FS sign-in needs the AD FS URL (CDMS_ADFS_URL), an http(s) URL with a host")
        if parts.username or parts.password:
            raise ValueError("put the AD FS credentials in the username and password, not in its URL")
        if not username or not password:
            raise ValueError("AD FS sign-in needs a username (DOMAIN\\user) and a password")
        self.adfs_url = adfs_url.rstrip("/")
        self.username = username
        self.password = password

    def __call__(self, request):
        return request  # the session's cookies authenticate; nothing is added per request

    def __repr__(self):
        return f"ADFSAuth({self.adfs_url!r})"

    session_ended = staticmethod(session_ended)

    def sign_in(self, session, base_url, timeout):
        """Sign `session` in to the CRM at `base_url`; CDMSUnauthorizedError if AD FS refuses."""
        session.cookies.clear()
        walk = _Walk(self, session, base_url, timeout)
        walk.run(f"{base_url}/?{urlencode({'whr': self.adfs_url})}")
        log.info("signed in to the CRM through AD FS")


class _Walk:
    """One sign-in: the requests from the CRM's root to its session cookies."""

    def __init__(self, auth, session, base_url, timeout):
        self.auth, self.session, self.base_url, self.timeout = auth, session, base_url, timeout
        self.allowed = {_origin(base_url), _origin(auth.adfs_url)}
        self.sent_credentials = self.sent_token = False

    def run(self, start):
        response = self.send("GET", start)
        for _ in range(MAX_STEPS):
            if response.status_code in REDIRECTS:
                target = urljoin(response.url, response.headers.get("Location", ""))
                if self.sent_token and _origin(target) == _origin(self.base_url):
                    return  # the CRM took the token, set its cookies and sends us on
                response = self.send("GET", target)
                continue
            if response.status_code != 200:
                raise CDMSUnauthorizedError(f"the AD FS sign-in failed: HTTP {response.status_code}")
            page = parse_page(response.text)
            if not page.forms:
                if self.sent_token:
                    return
                raise CDMSUnexpectedResponseError("the CRM's sign-in led to a page with no sign-in form")
            response = self.submit(page, urljoin(response.url, page.forms[0].action))
        raise CDMSUnauthorizedError(f"the AD FS sign-in did not finish within {MAX_STEPS} steps")

    def submit(self, page, action):
        form = page.forms[0]
        if form.password_field is None:
            self.sent_token = True
            return self.send("POST", action, form.fields)
        if self.sent_credentials:
            reason = " ".join(page.errors) or "the sign-in form came back"
            raise CDMSUnauthorizedError(f"AD FS refused the sign-in: {reason}")
        if _origin(action) != _origin(self.auth.adfs_url) or form.user_field is None:
            raise CDMSUnauthorizedError(
                "the sign-in form does not post to the AD FS named by CDMS_ADFS_URL; credentials not sent"
            )
        self.sent_credentials = True
        fields = {**form.fields, form.user_field: self.auth.username, form.password_field: self.auth.password}
        return self.send("POST", action, fields)

    def send(self, method, url, data=None):
        if _origin(url) not in self.allowed:
            raise CDMSUnauthorizedError("the sign-in led away from the CRM and its AD FS; stopped")
        status, start = None, time.perf_counter()
        try:
            response = self.session.request(
                method,
                url,
                data=data,
                timeout=self.timeout,
                allow_redirects=False,
                headers={"Accept": "text/html"},
            )
            status = response.status_code
            return response
        except requests.RequestException as exc:
            raise CDMSConnectionError(f"the AD FS sign-in failed: {type(exc).__name__}") from None
        finally:
            ms = (time.perf_counter() - start) * 1000
            counting.record(counting.RequestRecord(method, SIGN_IN, status, ms, 1))
            log.debug("%s %s %s -> %s in %.0f ms", SIGN_IN, method, urlsplit(url).path, status or "no answer", ms)
