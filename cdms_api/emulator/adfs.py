"""Claims-based sign-in as an internet-facing CRM 2011 and its AD FS 2.0 do it (`--auth adfs`).

The emulator plays both sides on its one port:

- the CRM: a service request without a live session is answered before it is handled, with a
  302 to the sign-in page (`expiry="redirect"`) or with a 200 HTML sign-in form
  (`expiry="form"`), as an expired claims session is. `GET /` starts a sign-in (a 302 to AD FS,
  keeping `whr`). `POST /` with `wresult` takes a token AD FS issued, sets the session cookies
  `MSISAuth` and `MSISAuth1` (the session id in two chunks, as large claims cookies are split)
  and redirects to `/`. (uncertain: the cookie names; the client keeps whatever is set.)
- AD FS (`/adfs/ls/`): GET shows the sign-in form; POST checks the user name (`DOMAIN\\user` or
  `user@domain`) and password against the users file (lines `DOMAIN:user:password`) and answers
  the hidden form a browser posts on by script (`wa`, `wresult` holding a one-time token,
  `wctx`); a wrong password shows the form again with an error label.

Sessions last `session_seconds` (`expire_sessions()` ends them all, for tests); a token is
good once, for five minutes.
"""

import secrets
import threading
import time
from html import escape
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlencode

from .answers import Response

SIGN_IN_PATH = "/adfs/ls/"
EXPIRY_ANSWERS = ("redirect", "form")
TOKEN_SECONDS = 300
COOKIES = ("MSISAuth", "MSISAuth1")
USER_FIELD = "ctl00$ContentPlaceHolder1$UsernameTextBox"
PASSWORD_FIELD = "ctl00$ContentPlaceHolder1$PasswordTextBox"
WRONG_PASSWORD = "Incorrect user ID or password. Type the correct user ID and password, and try again."
HTML = [("Content-Type", "text/html; charset=utf-8")]

SIGN_IN_FORM = (
    "<!DOCTYPE html><html><head><title>Sign In</title></head><body>"
    '<form method="post" action="{action}" id="aspnetForm">'
    '<input type="hidden" name="__VIEWSTATE" value="dDwtMTA4NzczMzUxMjs7Pg==" />{error}'
    f'<label>User name</label><input name="{USER_FIELD}" type="text" />'
    f'<label>Password</label><input name="{PASSWORD_FIELD}" type="password" />'
    '<input type="submit" name="ctl00$ContentPlaceHolder1$SubmitButton" value="Sign In" />'
    "</form></body></html>"
)
ERROR_LABEL = '<span id="ctl00_ContentPlaceHolder1_ErrorTextLabel">{text}</span>'
TOKEN_FORM = (
    '<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="{action}">'
    '<input type="hidden" name="wa" value="wsignin1.0" />'
    '<input type="hidden" name="wresult" value="{wresult}" />'
    '<input type="hidden" name="wctx" value="{wctx}" />'
    "<noscript><p>Script is disabled. Click Submit to continue.</p>"
    '<input type="submit" value="Submit" /></noscript>'
    "</form><script>window.setTimeout('document.forms[0].submit()', 0);</script></body></html>"
)
RSTR = (
    '<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust">'
    "<t:RequestedSecurityToken>{token}</t:RequestedSecurityToken></t:RequestSecurityTokenResponse>"
)


def read_users(path):
    """{(domain, user) lower-cased: password} from lines `DOMAIN:user:password`."""
    users = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            domain, _, rest = line.rstrip("\n").partition(":")
            user, _, password = rest.partition(":")
            if domain and user:
                users[(domain.lower(), user.lower())] = password
    return users


def _account(username):
    if "\\" in username:
        domain, _, user = username.partition("\\")
    else:
        user, _, domain = username.partition("@")
        domain = domain.split(".")[0]
    return domain.lower(), user.lower()


class ClaimsSignIn:
    """The CRM's claims sessions and the AD FS that issues their tokens, for one emulator."""

    def __init__(self, users_file, session_seconds=8 * 3600, expiry="redirect", clock=time.monotonic):
        if expiry not in EXPIRY_ANSWERS:
            raise ValueError(f"expiry must be one of {', '.join(EXPIRY_ANSWERS)}, not {expiry!r}")
        self.users = read_users(users_file)
        self.session_seconds = session_seconds
        self.expiry = expiry
        self.clock = clock
        self._lock = threading.Lock()
        self._sessions = {}  # session id -> when it ends
        self._tokens = {}  # token -> when it stops being accepted
        self.sign_ins = 0  # sessions started

    def expire_sessions(self):
        """End every session now (the next request of each client meets the expiry answer)."""
        with self._lock:
            self._sessions.clear()

    def handles(self, path):
        """True for the paths of the sign-in itself (the CRM's root, AD FS)."""
        return path in ("", "/") or path.startswith(SIGN_IN_PATH)

    def answer(self, environ):
        """Answer a request of the sign-in (the CRM's root or AD FS)."""
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET").upper()
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if path.startswith(SIGN_IN_PATH):
            if method == "POST":
                return self._check_password(environ, query)
            return self._form(environ.get("QUERY_STRING", ""))
        if method == "POST":
            return self._take_token(environ)
        if self.live(environ):
            return Response(200, HTML, b"<html><body>Microsoft Dynamics CRM</body></html>")
        return self._to_sign_in(environ, query)

    def check(self, environ):
        """None if the request carries a live session, else the answer to an ended one."""
        if self.live(environ):
            return None
        if self.expiry == "form":
            return self._form(_sign_in_query(environ))
        return self._to_sign_in(environ, {})

    def live(self, environ):
        """True if the request's cookies name a session that has not ended."""
        session = _session_of(environ)
        with self._lock:
            ends = self._sessions.get(session)
            if ends is not None and ends <= self.clock():
                del self._sessions[session]
                ends = None
        return ends is not None

    def _to_sign_in(self, environ, query):
        whr = query.get("whr", [""])[0]
        location = f"{SIGN_IN_PATH}?{_sign_in_query(environ)}" + (f"&{urlencode({'whr': whr})}" if whr else "")
        return Response(302, [*HTML, ("Location", location)], b"<html><body>Object moved.</body></html>")

    def _form(self, query, error=""):
        action = escape(f"{SIGN_IN_PATH}?{query}")
        body = SIGN_IN_FORM.format(action=action, error=ERROR_LABEL.format(text=escape(error)) if error else "")
        return Response(200, HTML, body.encode())

    def _check_password(self, environ, query):
        fields = _form_fields(environ)
        username, password = fields.get(USER_FIELD, ""), fields.get(PASSWORD_FIELD, "")
        known = self.users.get(_account(username))
        if known is None or not secrets.compare_digest(known.encode(), password.encode()):
            return self._form(environ.get("QUERY_STRING", ""), WRONG_PASSWORD)
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self.clock() + TOKEN_SECONDS
        wctx = query.get("wctx", ["/"])[0]
        body = TOKEN_FORM.format(
            action=escape(_crm_root(environ) + "/"), wresult=escape(RSTR.format(token=token)), wctx=escape(wctx)
        )
        return Response(200, HTML, body.encode())

    def _take_token(self, environ):
        fields = _form_fields(environ)
        token = _token_in(fields.get("wresult", ""))
        with self._lock:
            good = self._tokens.pop(token, 0) > self.clock()
            if good:
                session = secrets.token_urlsafe(24)
                self._sessions[session] = self.clock() + self.session_seconds
                self.sign_ins += 1
        if not good:
            return self._form(_sign_in_query(environ), "The sign-in token is not valid.")
        half = len(session) // 2
        cookies = [
            ("Set-Cookie", f"{name}={part}; path=/; HttpOnly")
            for name, part in zip(COOKIES, (session[:half], session[half:]), strict=True)
        ]
        return Response(302, [*HTML, *cookies, ("Location", "/")], b"<html><body>Object moved.</body></html>")


def _crm_root(environ):
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}"


def _sign_in_query(environ):
    return urlencode({"wa": "wsignin1.0", "wtrealm": _crm_root(environ) + "/", "wctx": "rm=1&id=passive&ru=%2f"})


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
