"""Authentication to the CRM: none, NTLM (Windows auth on-premises), AD FS claims, or any requests auth.

NTLM authenticates a TCP connection, not a request: requests_ntlm runs the handshake when IIS
answers 401 and the session then keeps that connection alive. When the CRM still answers 401
(a dropped connection, an expired session) the client renews the auth object with `renew()`
and opens fresh connections once before giving up.

An internet-facing deployment signs in through AD FS instead (`adfs.ADFSAuth`): the client signs
its session in before the first request and again, once, when the CRM says the session ended.
"""

import copy

from requests_ntlm import HttpNtlmAuth

from .adfs import ADFSAuth

KINDS = ("none", "ntlm", "adfs")


def make_auth(kind, username=None, password=None, adfs_url=None):
    """Return the auth for `kind`: none (None), ntlm (NTLM), adfs (sign-in through AD FS at `adfs_url`)."""
    if kind == "none":
        return None
    if kind == "ntlm":
        if not username or not password:
            raise ValueError("NTLM needs a username (DOMAIN\\user) and a password")
        return HttpNtlmAuth(username, password)
    if kind == "adfs":
        return ADFSAuth(adfs_url, username, password)
    raise ValueError(f"unknown CRM auth kind {kind!r}: use one of {', '.join(KINDS)}")


def renew(auth):
    """Return a fresh copy of an auth object (no per-connection state), or None."""
    if auth is None:
        return None
    if isinstance(auth, ADFSAuth):
        return auth  # its state is the session's cookies, renewed by signing in again
    if isinstance(auth, HttpNtlmAuth):
        return HttpNtlmAuth(auth.username, auth.password, send_cbt=auth.send_cbt)
    try:
        return copy.copy(auth)
    except Exception:  # an auth object that cannot be copied is reused as it is
        return auth
