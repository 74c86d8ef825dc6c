"""Claims-based sign-in as an internet-facing CRM 2011 and AD FS 2.0 do it (`--auth adfs`).

Three parties, each on its own origin (port), as in a real deployment:

- the CRM (`ClaimsSignIn`, on the emulator's port): a service request without a live session is
  answered before it is handled, with a 302 to its STS (`expiry="redirect"`) or with a 200 HTML
  page whose form leads there (`expiry="form"`), as an expired claims session is. `GET /` starts a
  sign-in (a 302 to its STS, keeping `whr`). `POST /` with a `wresult` its STS issued sets the
  session cookies `MSISAuth` and `MSISAuth1` (the session id in two chunks, as large claims cookies
  are split) and redirects to `/`. (uncertain: the cookie names; the client keeps whatever is set.)
- the account STS (`STS` with accounts): the organisation's AD FS 2.0, where the password is typed.
  `GET /adfs/ls/?wa=wsignin1.0&wtrealm=...` shows the ASP.NET WebForms page `FormsSignIn.aspx`
  (`__VIEWSTATE`, `__VIEWSTATEGENERATOR`, `__EVENTVALIDATION`, `__db`, the user name and password
  boxes and the submit button). A post without a view state it rendered is an error page; a post
  without the button's name re-renders the form, as WebForms runs the click handler only for the
  clicked button; a wrong password (or a locked account) re-renders it with
  `ContentPlaceHolder1_ErrorTextLabel` "The user name or password is incorrect."; the right one
  answers the "Working..." page, a `hiddenform` (`wa`, `wresult` holding a one-time token, `wctx`)
  that a browser posts on by script to the relying party.
- the resource STS (`STS` with a provider, optional): the CRM's own AD FS, which federates to the
  account STS. It picks the account STS by `whr` (its identifier, `http://<host>/adfs/services/trust`)
  or, without a known `whr`, shows the home-realm page (a drop-down of claims providers and a
  button); it takes the account STS's token and issues its own for the CRM, in a second
  "Working..." page.

An unknown relying party, a bad or replayed token, or a post without a view state is answered
with AD FS's error page (`ContentPlaceHolder1_ErrorTextLabel` "There was a problem accessing the
site..."; uncertain: the exact markup of AD FS 2.0's Error.aspx). Sessions last
`session_seconds` (`expire_sessions()` ends them all, for tests); a token is good once, for five
minutes.
"""

import secrets
import threading
import time
from html import escape
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlencode

from .answers import Response

SIGN_IN_PATH = "/adfs/ls/"
FORMS_PAGE = "FormsSignIn.aspx"
HOME_REALM_PAGE = "HomeRealmDiscovery.aspx"
EXPIRY_ANSWERS = ("redirect", "form")
TOKEN_SECONDS = 300
COOKIES = ("MSISAuth", "MSISAuth1")
USER_FIELD = "ctl00$ContentPlaceHolder1$UsernameTextBox"
PASSWORD_FIELD = "ctl00$ContentPlaceHolder1$PasswordTextBox"
SUBMIT_BUTTON = "ctl00$ContentPlaceHolder1$SubmitButton"
PROVIDERS_FIELD = "ctl00$ContentPlaceHolder1$PassiveIdentityProvidersDropDownList"
PROVIDERS_BUTTON = "ctl00$ContentPlaceHolder1$PassiveSignInButton"
WRONG_PASSWORD = "The user name or password is incorrect."
PROBLEM = "There was a problem accessing the site. Try to browse to the site again."
HTML = [("Content-Type", "text/html; charset=utf-8")]
MAX_VIEW_STATES = 4096

PAGE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
    '<html xmlns="http://www.w3.org/1999/xhtml" dir="ltr"><head><title>Sign In</title></head><body>'
    '<form method="post" action="{action}" id="MainForm">'
    '<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{state}" />'
    '<input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="{generator}" />'
    '<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" value="{validation}" />'
    '<input type="hidden" name="__db" value="15" />'
    '<div class="MainArea"><span id="STSLabel">{label}</span>{body}</div>'
    "</form></body></html>"
)
SIGN_IN_BODY = (
    "<table><tr><td>User name:</td><td>"
    f'<input name="{USER_FIELD}" type="text" id="ContentPlaceHolder1_UsernameTextBox" autocomplete="off" />'
    "</td></tr><tr><td>Password:</td><td>"
    f'<input name="{PASSWORD_FIELD}" type="password" id="ContentPlaceHolder1_PasswordTextBox" '
    'autocomplete="off" />'
    '</td></tr><tr><td colspan="2">{error}</td></tr><tr><td colspan="2">'
    f'<input type="submit" name="{SUBMIT_BUTTON}" value="Sign In" id="ContentPlaceHolder1_SubmitButton" />'
    "</td></tr></table>"
)
HOME_REALM_BODY = (
    "<span>Sign in to {label}. Select your organization:</span>"
    f'<select name="{PROVIDERS_FIELD}" id="ContentPlaceHolder1_PassiveIdentityProvidersDropDownList">'
    "{options}</select>"
    f'<input type="submit" name="{PROVIDERS_BUTTON}" value="Continue to Sign In" />'
)
ERROR_LABEL = '<span id="ContentPlaceHolder1_ErrorTextLabel">{text}</span>'
ERROR_PAGE = (
    '<!DOCTYPE html><html><head><title>Sign In</title></head><body><div class="MainArea">'
    '<span id="STSLabel">{label}</span>' + ERROR_LABEL + "<span>Reference number: {ref}</span></div></body></html>"
)
TOKEN_FORM = (
    '<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="{action}">'
    '<input type="hidden" name="wa" value="wsignin1.0" />'
    '<input type="hidden" name="wresult" value="{wresult}" />'
    '<input type="hidden" name="wctx" value="{wctx}" />'
    "<noscript><p>Script is disabled. Click Submit to continue.</p>"
    '<input type="submit" value="Submit" /></noscript>'
    "</form><script language=\"javascript\">window.setTimeout('document.forms[0].submit()', 0);</script>"
    "</body></html>"
)
ENDED_FORM = (
    "<html><head><title>Sign In</title></head><body>"
    '<form method="get" name="signin" action="{action}">{fields}'
    '<noscript><input type="submit" value="Sign In" /></noscript></form>'
    "<script>document.forms[0].submit();</script></body></html>"
)
CRM_HOME = b"<html><head><title>Microsoft Dynamics CRM</title></head><body></body></html>"
RSTR = (
    '<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust">'
    "<t:RequestedSecurityToken>{token}</t:RequestedSecurityToken></t:RequestSecurityTokenResponse>"
)


class Tokens:
    """One-time tokens, each issued by one STS for one audience."""

    def __init__(self, clock):
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens = {}

    def issue(self, issuer, audience):
        """A new token from `issuer` for `audience`, good once for TOKEN_SECONDS."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (issuer, audience, self.clock() + TOKEN_SECONDS)
        return RSTR.format(token=token)

    def take(self, wresult, issuer, audience):
        """True (once) if `wresult` holds a live token from `issuer` for `audience`."""
        with self._lock:
            found = self._tokens.pop(_token_in(wresult), None)
        return found is not None and found[:2] == (issuer, audience) and found[2] > self.clock()


class STS:
    """One AD FS 2.0 on its own origin: the account STS (with `accounts`) or a resource STS (with `provider`)."""

    def __init__(self, label, tokens, accounts=None, provider=None):
        self.label, self.tokens, self.accounts, self.provider = label, tokens, accounts, provider
        self.base_url = None
        self.relying_parties = {}  # wtrealm -> where its token form posts
        self._lock = threading.Lock()
        self._view_states = {}  # view state -> page it was rendered for (insertion ordered)
        self._pending = {}  # a resource STS's ticket sent as wctx -> (wtrealm, wctx) it was asked for

    @property
    def identifier(self):
        """The STS's identifier, as `whr` and tokens name it."""
        return f"{self.base_url}/adfs/services/trust"

    def answer(self, environ):
        """Answer one request to this STS."""
        path = environ.get("PATH_INFO", "").lower()
        method = environ.get("REQUEST_METHOD", "GET").upper()
        query = _query(environ)
        page = path[len(SIGN_IN_PATH) :] if path.startswith(SIGN_IN_PATH) else None
        if page is None:
            return Response(404, HTML, b"<html><body>404 - File or directory not found.</body></html>")
        if method == "GET" and page == "":
            return self._sign_in_request(environ, query)
        if method == "POST" and page == "" and self.provider is not None:
            return self._federated_token(environ)
        if method == "POST" and page == FORMS_PAGE.lower() and self.accounts is not None:
            return self._forms_post(environ, query)
        if method == "POST" and page == HOME_REALM_PAGE.lower() and self.provider is not None:
            return self._home_realm_post(environ, query)
        return self.error_page()

    def _sign_in_request(self, environ, query):
        if query.get("wa") != "wsignin1.0" or query.get("wtrealm") not in self.relying_parties:
            return self.error_page()
        if self.accounts is not None:
            return self._page(FORMS_PAGE, environ.get("QUERY_STRING", ""), SIGN_IN_BODY.format(error=""))
        if query.get("whr") == self.provider.identifier:
            return self._to_provider(query)
        return self._home_realm_page(environ.get("QUERY_STRING", ""))

    def _forms_post(self, environ, query):
        fields = _form_fields(environ)
        if not self._rendered(fields, FORMS_PAGE) or query.get("wtrealm") not in self.relying_parties:
            return self.error_page()
        raw_query = environ.get("QUERY_STRING", "")
        if SUBMIT_BUTTON not in fields:  # a postback without the button runs no click handler
            return self._page(FORMS_PAGE, raw_query, SIGN_IN_BODY.format(error=""))
        if not self.accounts.check(fields.get(USER_FIELD, ""), fields.get(PASSWORD_FIELD, "")):
            error = ERROR_LABEL.format(text=escape(WRONG_PASSWORD))
            return self._page(FORMS_PAGE, raw_query, SIGN_IN_BODY.format(error=error))
        return self._token_form(query["wtrealm"], query.get("wctx", ""))

    def _home_realm_page(self, raw_query):
        options = (
            f'<option value="{escape(self.identifier)}">{escape(self.label)} (Active Directory)</option>'
            f'<option value="{escape(self.provider.identifier)}">{escape(self.provider.label)}</option>'
        )
        body = HOME_REALM_BODY.format(label=escape(self.label), options=options)
        return self._page(HOME_REALM_PAGE, raw_query, body)

    def _home_realm_post(self, environ, query):
        fields = _form_fields(environ)
        if not self._rendered(fields, HOME_REALM_PAGE) or query.get("wtrealm") not in self.relying_parties:
            return self.error_page()
        if PROVIDERS_BUTTON not in fields:
            return self._home_realm_page(environ.get("QUERY_STRING", ""))
        if fields.get(PROVIDERS_FIELD) != self.provider.identifier:
            return self.error_page()  # this STS keeps no accounts of its own
        return self._to_provider(query)

    def _to_provider(self, query):
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[ticket] = (query["wtrealm"], query.get("wctx", ""))
        target = urlencode({"wa": "wsignin1.0", "wtrealm": self.identifier, "wctx": ticket})
        location = f"{self.provider.base_url}{SIGN_IN_PATH}?{target}"
        return Response(302, [*HTML, ("Location", location)], b"<html><body>Object moved.</body></html>")

    def _federated_token(self, environ):
        fields = _form_fields(environ)
        with self._lock:
            pending = self._pending.pop(fields.get("wctx", ""), None)
        token = fields.get("wresult", "")
        if pending is None or not self.tokens.take(token, self.provider.identifier, self.identifier):
            return self.error_page()
        return self._token_form(*pending)

    def _token_form(self, realm, wctx):
        wresult = self.tokens.issue(self.identifier, realm)
        body = TOKEN_FORM.format(
            action=escape(self.relying_parties[realm]), wresult=escape(wresult), wctx=escape(wctx)
        )
        return Response(200, HTML, body.encode())

    def _page(self, page, raw_query, body):
        state, validation = secrets.token_urlsafe(24), secrets.token_urlsafe(12)
        with self._lock:
            self._view_states[state] = (page, validation)
            while len(self._view_states) > MAX_VIEW_STATES:
                self._view_states.pop(next(iter(self._view_states)))
        html = PAGE.format(
            action=escape(f"{page}?{raw_query}"),
            state=state,
            generator="7D6F3B5E",
            validation=validation,
            label=escape(self.label),
            body=body,
        )
        return Response(200, HTML, html.encode())

    def _rendered(self, fields, page):
        # ASP.NET refuses a postback whose view state or event validation it did not render.
        with self._lock:
            rendered = self._view_states.get(fields.get("__VIEWSTATE", ""))
        return (
            rendered == (page, fields.get("__EVENTVALIDATION"))
            and "__VIEWSTATEGENERATOR" in fields
            and "__db" in fields
        )

    def error_page(self):
        """AD FS's error page (a 200 without a form)."""
        body = ERROR_PAGE.format(label=escape(self.label), text=escape(PROBLEM), ref=secrets.token_hex(8))
        return Response(200, HTML, body.encode())


class ClaimsSignIn:
    """The CRM's claims sessions, and the STS (chain) that issues their tokens, for one emulator."""

    def __init__(
        self,
        accounts,
        session_seconds=8 * 3600,
        expiry="redirect",
        resource_sts=False,
        clock=time.monotonic,
    ):
        if expiry not in EXPIRY_ANSWERS:
            raise ValueError(f"expiry must be one of {', '.join(EXPIRY_ANSWERS)}, not {expiry!r}")
        self.accounts = accounts
        self.session_seconds = session_seconds
        self.expiry = expiry
        self.clock = clock
        self.tokens = Tokens(clock)
        self.account_sts = STS("Organisation AD FS", self.tokens, accounts=accounts)
        self.resource_sts = STS("CRM AD FS", self.tokens, provider=self.account_sts) if resource_sts else None
        self.crm_url = None
        self._lock = threading.Lock()
        self._sessions = {}  # session id -> when it ends
        self.sign_ins = 0  # sessions started

    @property
    def trusted_sts(self):
        """The STS the CRM sends its sign-ins to and takes tokens from."""
        return self.resource_sts or self.account_sts

    def connect(self, crm_url, account_sts_url, resource_sts_url=None):
        """Tell each party the others' URLs once every port is bound."""
        self.crm_url = crm_url
        self.account_sts.base_url = account_sts_url
        realm = self._realm
        if self.resource_sts is not None:
            self.resource_sts.base_url = resource_sts_url
            self.resource_sts.relying_parties = {realm: realm}
            self.account_sts.relying_parties = {self.resource_sts.identifier: resource_sts_url + SIGN_IN_PATH}
        else:
            self.account_sts.relying_parties = {realm: realm}

    @property
    def _realm(self):
        return self.crm_url + "/"

    def expire_sessions(self):
        """End every session now (the next request of each client meets the expiry answer)."""
        with self._lock:
            self._sessions.clear()

    def handles(self, path):
        """True for the paths of the sign-in on the CRM's own origin (its root)."""
        return path in ("", "/")

    def answer(self, environ):
        """Answer a request to the CRM's root: start a sign-in, or take a token."""
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method == "POST":
            return self._take_token(environ)
        if self.live(environ):
            return Response(200, HTML, CRM_HOME)
        return self._to_sign_in(_query(environ).get("whr"))

    def check(self, environ):
        """None if the request carries a live session, else the answer to an ended one."""
        if self.live(environ):
            return None
        if self.expiry == "form":
            hidden = '<input type="hidden" name="{}" value="{}" />'
            fields = "".join(hidden.format(escape(k), escape(v)) for k, v in self._request().items())
            action = escape(self.trusted_sts.base_url + SIGN_IN_PATH)
            return Response(200, HTML, ENDED_FORM.format(action=action, fields=fields).encode())
        return self._to_sign_in(None)

    def live(self, environ):
        """True if the request's cookies name a session that has not ended."""
        session = _session_of(environ)
        with self._lock:
            ends = self._sessions.get(session)
            if ends is not None and ends <= self.clock():
                del self._sessions[session]
                ends = None
        return ends is not None

    def _request(self, whr=None):
        fields = {"wa": "wsignin1.0", "wtrealm": self._realm, "wctx": "rm=1&id=passive&ru=%2f"}
        return {**fields, "whr": whr} if whr else fields

    def _to_sign_in(self, whr):
        location = f"{self.trusted_sts.base_url}{SIGN_IN_PATH}?{urlencode(self._request(whr))}"
        return Response(302, [*HTML, ("Location", location)], b"<html><body>Object moved.</body></html>")

    def _take_token(self, environ):
        fields = _form_fields(environ)
        if not self.tokens.take(fields.get("wresult", ""), self.trusted_sts.identifier, self._realm):
            return self.trusted_sts.error_page()
        session = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[session] = self.clock() + self.session_seconds
            self.sign_ins += 1
        half = len(session) // 2
        cookies = [
            ("Set-Cookie", f"{name}={part}; path=/; HttpOnly")
            for name, part in zip(COOKIES, (session[:half], session[half:]), strict=True)
        ]
        return Response(302, [*HTML, *cookies, ("Location", "/")], b"<html><body>Object moved.</body></html>")


def _query(environ):
    return {name: values[0] for name, values in parse_qs(environ.get("QUERY_STRING", "")).items()}


def _session_of(environ):
    try:
        cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return None
    parts = [cookies[name].value for name in COOKIES if name in cookies]
    return "".join(parts) if len(parts) == len(COOKIES) else None


def _form_fields(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(min(length, 65536)).decode("utf-8", "replace") if length else ""
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


def _token_in(wresult):
    start = wresult.find("<t:RequestedSecurityToken>")
    end = wresult.find("</t:RequestedSecurityToken>")
    if start < 0 or end < 0:
        return None
    return wresult[start + len("<t:RequestedSecurityToken>") : end]
