"""Refused credentials are remembered, so the service account is never locked out.

Active Directory locks an account after a few failed sign-ins within a window, and a locked
service account stops every system that uses it. So once the CRM or AD FS refuses the
credentials (AD FS's error on the sign-in form, NTLM's final 401 after a handshake, a session
refused right after a fresh sign-in), no request sends them again until a back-off passes
(`backoff` seconds) or an operator says they are fixed (`CredentialGuard.fixed()`). Requests in
the meantime fail at once with `CDMSCredentialsRefusedError`, without a request to the CRM.

The record lives in a `RefusalStore`. `MemoryRefusals` keeps it in the process; a deployment of
several processes passes a shared one (the sync layer keeps it in the database), so every
thread and process sees one refusal, and when the back-off has passed exactly one caller wins
the next try (`claim`) while the others keep waiting. One `CredentialGuard` serves every client
of a process: it sits on the auth object they share.
"""

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

from .exceptions import CDMSCredentialsRefusedError

log = logging.getLogger("cdms_api")

DEFAULT_BACKOFF = 900.0
# How long a process trusts what it last read from the store (a refusal, or none) before asking
# again when nothing is sent: an operator's "fixed" reaches every process within this many
# seconds, and a busy process asks a shared store at most this often. Sending credentials always
# asks the store (`before_sending`).
RECHECK_SECONDS = 5.0
UNKNOWN = object()


@dataclass(frozen=True)
class Refusal:
    """Credentials refused at `refused_at` for `reason`; nothing is sent again before `retry_at` (UTC)."""

    reason: str
    refused_at: dt.datetime
    retry_at: dt.datetime


class RefusalStore:
    """Where a refusal is kept; every method is safe to call from any thread."""

    def current(self, now):
        """The refusal in force at `now` (its back-off not passed), or None; claims nothing."""
        raise NotImplementedError

    def claim(self, now, backoff):
        """None if credentials may be sent now: no refusal, or its back-off passed and this caller won
        the one try (the back-off is pushed on `backoff` seconds for everyone else); else the refusal."""
        raise NotImplementedError

    def refuse(self, reason, now, backoff):
        """Record (or renew) a refusal at `now` until `now + backoff`; return it."""
        raise NotImplementedError

    def accept(self):
        """The credentials were accepted: forget any refusal."""
        raise NotImplementedError


class MemoryRefusals(RefusalStore):
    """A refusal kept in this process only."""

    def __init__(self):
        self._lock = threading.Lock()
        self._refusal = None

    def current(self, now):
        with self._lock:
            refusal = self._refusal
        return refusal if refusal is not None and refusal.retry_at > now else None

    def claim(self, now, backoff):
        with self._lock:
            refusal = self._refusal
            if refusal is None:
                return None
            if refusal.retry_at > now:
                return refusal
            self._refusal = Refusal(refusal.reason, refusal.refused_at, now + dt.timedelta(seconds=backoff))
            return None

    def refuse(self, reason, now, backoff):
        with self._lock:
            self._refusal = Refusal(reason, now, now + dt.timedelta(seconds=backoff))
            return self._refusal

    def accept(self):
        with self._lock:
            self._refusal = None


def utc_now():
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)


class CredentialGuard:
    """Decides whether credentials may be sent, and remembers when they were refused."""

    def __init__(self, store=None, backoff=DEFAULT_BACKOFF, hint="", clock=utc_now, monotonic=time.monotonic):
        if not backoff > 0:
            raise ValueError("the back-off after refused credentials must be a positive number of seconds")
        self.store = store if store is not None else MemoryRefusals()
        self.backoff = float(backoff)
        self.hint = hint  # how an operator says the credentials are fixed, for the error text
        self.clock, self.monotonic = clock, monotonic
        self._lock = threading.Lock()
        self._memo = (None, 0.0)  # (refusal or None, monotonic time until which it is trusted)
        self._sent = False  # credentials sent since the last refusal or acceptance

    def check(self):
        """Raise CDMSCredentialsRefusedError while a refusal is in force; send nothing."""
        refusal = self._remembered()
        if refusal is UNKNOWN:
            refusal = self.store.current(self.clock())
            self._remember(refusal)
        if refusal is not None:
            raise self.error(refusal)

    def before_sending(self):
        """Call right before credentials go out: raise while refused, else claim the try."""
        refusal = self._remembered()
        if refusal is not UNKNOWN and refusal is not None:
            raise self.error(refusal)
        refusal = self.store.claim(self.clock(), self.backoff)
        self._remember(refusal)
        if refusal is not None:
            raise self.error(refusal)
        with self._lock:
            self._sent = True

    def refused(self, reason):
        """Record that the credentials were refused; return the error to raise."""
        refusal = self.store.refuse(reason, self.clock(), self.backoff)
        with self._lock:
            self._sent = False
        self._remember(refusal)
        log.error("the CRM refused the credentials (%s); none are sent before %s", reason, _when(refusal.retry_at))
        return self.error(refusal)

    def accepted(self):
        """Call when an answer proves the credentials: forget a refusal if this process sent them."""
        with self._lock:
            sent, self._sent = self._sent, False
        if sent:
            self.store.accept()
            self._remember(None)

    def fixed(self):
        """An operator says the credentials are fixed: forget the refusal now."""
        self.store.accept()
        self._remember(None)

    def in_force(self):
        """The refusal in force now (from the store), or None."""
        return self.store.current(self.clock())

    def error(self, refusal):
        """The CDMSCredentialsRefusedError for `refusal`."""
        hint = f", or until {self.hint}" if self.hint else ""
        message = (
            f"the CRM refused the credentials at {_when(refusal.refused_at)} ({refusal.reason}); "
            f"none are sent again before {_when(refusal.retry_at)}{hint}"
        )
        return CDMSCredentialsRefusedError(message, status=None, refusal=refusal)

    def _remembered(self):
        """What the store last said (a refusal or None) if still trusted, else UNKNOWN."""
        with self._lock:
            refusal, until = self._memo
        if self.monotonic() >= until or (refusal is not None and refusal.retry_at <= self.clock()):
            return UNKNOWN
        return refusal

    def _remember(self, refusal):
        with self._lock:
            self._memo = (refusal, self.monotonic() + RECHECK_SECONDS)


def _when(moment):
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
