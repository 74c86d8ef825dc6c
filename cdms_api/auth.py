"""Authentication to the CRM: none, NTLM (Windows auth on-premises), or any requests auth.

NTLM authenticates a TCP connection, not a request: requests_ntlm runs the handshake when IIS
answers 401 and the session then keeps that connection alive. When the CRM still answers 401
(a dropped connection, an expired session) the client renews the auth object with `renew()`
and opens fresh connections once before giving up.
"""

import copy

from requests_ntlm import HttpNtlmAuth

KINDS = ("none", "ntlm")


def make_auth(kind, username=None, password=None):
    """Return the requests auth for `kind` ("none" -> None, "ntlm" -> NTLM as DOMAIN\\user)."""
    if kind == "none":
        return None
    if kind == "ntlm":
        if not username or not password:
            raise ValueError("NTLM needs a username (DOMAIN\\user) and a password")
        return HttpNtlmAuth(username, password)
    raise ValueError(f"unknown CRM auth kind {kind!r}: use one of {', '.join(KINDS)}")


def renew(auth):
    """Return a fresh copy of an auth object (no per-connection state), or None."""
    if auth is None:
        return None
    if isinstance(auth, HttpNtlmAuth):
        return HttpNtlmAuth(auth.username, auth.password, send_cbt=auth.send_cbt)
    try:
        return copy.copy(auth)
    except Exception:  # an auth object that cannot be copied is reused as it is
        return auth
