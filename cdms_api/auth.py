"""Authentication to the CRM: none, NTLM (Windows auth on-premises), AD FS claims, or any requests auth.

NTLM authenticates a TCP connection, not a request: requests_ntlm runs the handshake when IIS
answers 401 and the session then keeps that connection alive. A 401 that arrives after a full
handshake means the password was refused (NTLM's final 401): the client records the refusal and
does not send it again. A 401 without a handshake (a dropped connection) is sent once more with
a renewed auth object on fresh connections (`renew()`).

An internet-facing deployment signs in through AD FS instead (`adfs.ADFSAuth`): the client signs
its session in before the first request and again, once, when the CRM says the session ended.

Both carry a `CredentialGuard` (`refusals`): it is asked right before credentials go out (an
NTLM handshake, an AD FS sign-in) and refuses while an earlier refusal's back-off runs. Share
one auth object between the clients of a process so they share its guard and, with AD FS, its
session.
"""

import copy

from requests_ntlm import HttpNtlmAuth

from .adfs import ADFSAuth
from .refusals import CredentialGuard

KINDS = ("none", "ntlm", "adfs")


class GuardedNtlmAuth(HttpNtlmAuth):
    """requests_ntlm's NTLM auth that asks its guard before each handshake sends the password."""

    def __init__(self, username, password, send_cbt=True, guard=None):
        super().__init__(username, password, send_cbt=send_cbt)
        self.guard = guard if guard is not None else CredentialGuard()

    def retry_using_http_NTLM_auth(self, auth_header_field, auth_header, response, auth_type, args):
        if auth_header not in response.request.headers:
            self.guard.before_sending()  # raises, with nothing sent, while a refusal is in force
        return super().retry_using_http_NTLM_auth(auth_header_field, auth_header, response, auth_type, args)


def make_auth(kind, username=None, password=None, adfs_url=None, *, whr=None, sts_urls=(), guard=None):
    """Return the auth for `kind`: none (None), ntlm (NTLM), adfs (sign-in through AD FS at `adfs_url`).

    `whr` is the home realm sent to the CRM's STS (default: `adfs_url`); `sts_urls` are further
    STS origins a token may be posted to; `guard` remembers refused credentials.
    """
    if kind == "none":
        return None
    if kind == "ntlm":
        if not username or not password:
            raise ValueError("NTLM needs a username (DOMAIN\\user) and a password")
        return GuardedNtlmAuth(username, password, guard=guard)
    if kind == "adfs":
        return ADFSAuth(adfs_url, username, password, whr=whr or None, sts_urls=sts_urls, guard=guard)
    raise ValueError(f"unknown CRM auth kind {kind!r}: use one of {', '.join(KINDS)}")


def guard_of(auth):
    """The CredentialGuard of an auth object, or None (no credentials, or an auth without one)."""
    return getattr(auth, "guard", None)


def renew(auth):
    """Return a fresh copy of an auth object (no per-connection state), or None."""
    if auth is None:
        return None
    if isinstance(auth, ADFSAuth):
        return auth  # its state is the session's cookies, renewed by signing in again
    if isinstance(auth, GuardedNtlmAuth):
        return GuardedNtlmAuth(auth.username, auth.password, send_cbt=auth.send_cbt, guard=auth.guard)
    if isinstance(auth, HttpNtlmAuth):
        return HttpNtlmAuth(auth.username, auth.password, send_cbt=auth.send_cbt)
    try:
        return copy.copy(auth)
    except Exception:  # an auth object that cannot be copied is reused as it is
        return auth
