"""Claims-based sign-in through AD FS 2.0, as an internet-facing CRM 2011 deployment asks for.

An internet-facing (IFD) CRM 2011 takes no Windows auth: a request without a session is sent to
its STS. Signing in walks what a browser walks (the WS-Federation passive profile):

1. `GET` the CRM's root with `whr` (the home realm: the identifier of the AD FS that knows the
   user, `CDMS_ADFS_WHR`). Its redirects lead through the CRM's own STS (or STSes), which pick
   the organisation's AD FS by `whr` (or show a home-realm page whose drop-down is answered
   with it), to the sign-in form.
2. Post the user name and password to that form, as a browser submits it (every successful
   control and the clicked button: AD FS 2.0's `FormsSignIn.aspx` is an ASP.NET WebForms page
   that runs the sign-in only when the button's name is posted), and only if the page and its
   action are on the origin of the AD FS named by `CDMS_ADFS_URL`.
3. Each STS answers a "Working..." page, a form of hidden fields (`wa`, `wresult` with the
   token, `wctx`) that a browser posts on by script: post it on, once per STS, but only to the
   CRM, an origin the CRM's own redirects led to before the password was sent, or one the
   settings list (`sts_urls`).
4. The CRM takes its STS's token, sets its session cookies and redirects. Only that ends the
   walk; the client then proves the session by the original request's OData answer.

Anything else is a named error: a form that comes back after the password (AD FS's error label,
"The user name or password is incorrect."), an error page, a page that is neither a form nor a
token, a hop the walk may not take. After the password was posted and before a token came
back, every failure counts as refused credentials, which the `CredentialGuard` on this auth
remembers so that no process sends them again until the back-off passes.

One auth object serves every client of a process: it signs in once at a time (a lock) and the
clients share its session cookies (`generation` tells a client that a newer session exists).
Nothing here logs or raises the user name, the password, the token or a cookie: log lines
name the step's path only.
"""

import logging
import threading
import time
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from requests.auth import AuthBase

from . import counting
from .exceptions import CDMSConnectionError, CDMSSignInError
from .html_forms import parse_page
from .refusals import CredentialGuard

log = logging.getLogger("cdms_api")

# Redirects and forms in one sign-in: one STS takes four requests, two take six.
MAX_STEPS = 16
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What counting and the logs call the requests of a sign-in.
SIGN_IN = "(sign-in)"


class _Refused(Exception):
    """The credentials were posted and no token came back: `reason` says what AD FS answered."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _origin(url):
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _host(url):
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] or "?"


def _check_url(url, setting):
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"AD FS sign-in needs {setting}, an http(s) URL with a host")
    if parts.username or parts.password:
        raise ValueError("put the AD FS credentials in the username and password, not in its URL")
    return url.rstrip("/")


def session_ended(response):
    """True if a CRM answer says the claims session is over: a redirect, a 401, or an HTML form."""
    if response.status_code in REDIRECTS or response.status_code == 401:
        return True
    html = "html" in response.headers.get("Content-Type", "").lower()
    return response.status_code == 200 and html and b"<form" in response.content[:65536].lower()


class ADFSAuth(AuthBase):
    """Sign-in through the AD FS at `adfs_url` as `username` (DOMAIN\\user); session cookies authenticate."""

    def __init__(self, adfs_url, username, password, whr=None, sts_urls=(), guard=None):
        self.adfs_url = _check_url(adfs_url, "the AD FS URL (CDMS_ADFS_URL)")
        if not username or not password:
            raise ValueError("AD FS sign-in needs a username (DOMAIN\\user) and a password")
        self.username, self.password = username, password
        self.whr = whr if whr is not None else self.adfs_url
        self.sts_urls = tuple(_check_url(url, "each STS URL (CDMS_ADFS_STS_URLS)") for url in sts_urls)
        self.guard = guard if guard is not None else CredentialGuard()
        self._lock = threading.Lock()
        self._cookies = None
        self.generation = 0  # how many sessions this auth has signed in

    def __call__(self, request):
        return request  # the session's cookies authenticate; nothing is added per request

    def __repr__(self):
        return f"ADFSAuth({self.adfs_url!r})"

    session_ended = staticmethod(session_ended)

    def load(self, session):
        """Put the latest session's cookies into `session`; return their generation (0: none yet)."""
        with self._lock:
            if self._cookies is not None:
                session.cookies.clear()
                session.cookies.update(self._cookies)
            return self.generation

    def sign_in(self, session, base_url, timeout, seen=0):
        """Give `session` a signed-in session newer than generation `seen`; return its generation.

        If another thread signed in since `seen`, its cookies are reused and nothing is sent.
        Raises CDMSCredentialsRefusedError when AD FS refuses (or refused, within the back-off).
        """
        with self._lock:
            if self.generation != seen and self._cookies is not None:
                session.cookies.clear()
                session.cookies.update(self._cookies)
                return self.generation
            self.guard.before_sending()
            session.cookies.clear()
            start = f"{base_url}/" + (f"?{urlencode({'whr': self.whr})}" if self.whr else "")
            try:
                _Walk(self, session, base_url, timeout).run(start)
            except _Refused as refused:
                raise self.guard.refused(refused.reason) from None
            self._cookies = session.cookies.copy()
            self.generation += 1
            log.info("signed in to the CRM through AD FS")
            return self.generation


class _Walk:
    """One sign-in: the requests from the CRM's root to its session cookies."""

    def __init__(self, auth, session, base_url, timeout):
        self.auth, self.session, self.timeout = auth, session, timeout
        self.crm, self.adfs = _origin(base_url), _origin(auth.adfs_url)
        self.trusted = {self.crm, self.adfs, *(_origin(url) for url in auth.sts_urls)}
        self.sent_credentials = self.token_issued = self.token_to_crm = False

    def run(self, start):
        """Walk from `start` until the CRM sets its session; raise a named error otherwise."""
        response = self.send("GET", start)
        for _ in range(MAX_STEPS):
            at_crm = _origin(response.url) == self.crm
            if self.token_to_crm and at_crm:
                return self.finish(response)
            if response.status_code in REDIRECTS:
                target = urljoin(response.url, response.headers.get("Location", ""))
                if not self.sent_credentials:
                    self.trusted.add(_origin(target))  # where the CRM's own redirects lead
                response = self.send("GET", target)
            elif response.status_code == 200:
                response = self.step(parse_page(response.text), response.url)
            else:
                raise self.failed(f"{_host(response.url)} answered HTTP {response.status_code}")
        raise self.failed(f"the sign-in did not finish within {MAX_STEPS} steps")

    def failed(self, reason):
        """The error for a failure: a refusal if the password went out and no token came back."""
        if self.sent_credentials and not self.token_issued:
            return _Refused(reason)
        return CDMSSignInError(f"the AD FS sign-in failed: {reason}")

    def finish(self, response):
        if not response.cookies:
            page = parse_page(response.text) if "html" in response.headers.get("Content-Type", "") else None
            what = page.describe() if page else f"HTTP {response.status_code}"
            raise CDMSSignInError(f"the AD FS sign-in failed: the CRM took the token but set no session ({what})")

    def step(self, page, url):
        """Answer one page: the sign-in form, a token form, the home-realm page or a scripted form."""
        sign_in = next((form for form in page.forms if form.password_field), None)
        if sign_in is not None:
            return self.post_credentials(sign_in, page, url)
        token = next((form for form in page.forms if form.named("wresult")), None)
        if token is not None:
            return self.post_token(token, url)
        realm = next((form for form in page.forms if form.of_kind("select")), None)
        if realm is not None:
            return self.choose_home_realm(realm, url)
        if page.scripted is not None:
            return self.submit(page.scripted, url, page.scripted.submission())
        if not page.forms:
            raise self.failed(f"{_host(url)} answered {page.describe()}")
        raise self.failed(f"{_host(url)} answered a form the sign-in does not know ({page.describe()})")

    def post_credentials(self, form, page, url):
        if self.sent_credentials:
            reason = page.describe() if page.errors else "the sign-in form came back"
            raise _Refused(f"AD FS refused the sign-in: {reason}")
        action = urljoin(url, form.action)
        if _origin(url) != self.adfs or _origin(action) != self.adfs:
            raise CDMSSignInError(
                f"the AD FS sign-in failed: the sign-in form at {_host(url)} is not the AD FS named by "
                "CDMS_ADFS_URL; credentials not sent"
            )
        if form.user_field is None:
            raise CDMSSignInError("the AD FS sign-in failed: the sign-in form has no user name box")
        buttons = form.buttons()
        values = {form.user_field: self.auth.username, form.password_field: self.auth.password}
        self.sent_credentials = True
        return self.send(form.method.upper(), action, form.submission(buttons[0] if buttons else None, values))

    def post_token(self, form, url):
        if self.sent_credentials:
            self.token_issued = True
        action = urljoin(url, form.action)
        self.token_to_crm = _origin(action) == self.crm
        return self.submit(form, url, form.submission())

    def choose_home_realm(self, form, url):
        select = form.of_kind("select")[0]
        wanted = self.auth.whr
        chosen = [value for value, _, _ in select.options if value == wanted]
        chosen = chosen or [value for value, _, _ in select.options if _origin(value)[1:] == self.adfs[1:]]
        if len(chosen) != 1:
            offered = ", ".join(text for _, text, _ in select.options) or "nothing"
            raise self.failed(
                f"the home-realm page at {_host(url)} offers {offered}; none is the AD FS named by "
                "CDMS_ADFS_WHR or CDMS_ADFS_URL"
            )
        buttons = form.buttons()
        return self.submit(form, url, form.submission(buttons[0] if buttons else None, {select.name: chosen[0]}))

    def submit(self, form, url, data):
        action = urljoin(url, form.action)
        if form.method == "get":
            action = f"{action.split('?', 1)[0]}?{urlencode(data)}"
            return self.send("GET", action)
        return self.send("POST", action, data)

    def send(self, method, url, data=None):
        if _origin(url) not in self.trusted:
            raise self.failed(
                f"the sign-in led to {_host(url)}, which is neither the CRM, an STS its redirects led to, "
                "nor one in CDMS_ADFS_STS_URLS; stopped"
            )
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
