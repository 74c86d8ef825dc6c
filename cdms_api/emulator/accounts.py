"""The directory behind Windows auth and AD FS: accounts, their passwords, and lockout.

Active Directory locks an account after `threshold` failed sign-ins within `window` seconds and
keeps it locked for `duration` seconds; while it is locked even the right password is refused
(and AD FS 2.0 says only "The user name or password is incorrect."). A locked service account
stops every system that uses it, which is why the client must never get here. Every password
check is remembered in `attempts` (who, whether it was accepted, whether the account was
locked) so tests and benchmarks can count how often a password reached the directory.
"""

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Attempt:
    """One password check: the account (domain, user), accepted or not, locked at the time."""

    account: tuple
    accepted: bool
    locked: bool
    via: str


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


def account_of(username):
    """(domain, user) lower-cased, from `DOMAIN\\user` or `user@domain.example`."""
    if "\\" in username:
        domain, _, user = username.partition("\\")
    else:
        user, _, domain = username.partition("@")
        domain = domain.split(".")[0]
    return domain.lower(), user.lower()


class Accounts:
    """The accounts of one emulator, with Active Directory's lockout policy."""

    def __init__(self, users_file, threshold=5, window=1800.0, duration=1800.0, clock=time.monotonic):
        if threshold < 1 or window <= 0 or duration <= 0:
            raise ValueError("lockout needs a threshold of at least 1 and positive window and duration")
        self.users_file = users_file
        self.users = read_users(users_file)
        self.threshold, self.window, self.duration = threshold, window, duration
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = {}  # account -> deque of failure times within the window
        self._locked_until = {}  # account -> when the lock ends
        self.attempts = []

    def reset(self):
        """Forget every attempt, failure and lock."""
        with self._lock:
            self._failures.clear()
            self._locked_until.clear()
            self.attempts = []

    def check(self, username, password, via="adfs"):
        """True if `password` is the account's and the account is not locked; the attempt is recorded."""
        account = account_of(username)
        known = self.users.get(account)
        good = known is not None and _same(known, password)
        return self.record(account, good, via)

    def record(self, account, good, via):
        """Record a password check whose outcome is `good`; return whether it is accepted (not locked)."""
        with self._lock:
            now = self.clock()
            locked = self._is_locked(account, now)
            accepted = good and not locked
            if not good and not locked:
                failures = self._failures.setdefault(account, deque())
                failures.append(now)
                while failures and failures[0] <= now - self.window:
                    failures.popleft()
                if len(failures) >= self.threshold:
                    self._locked_until[account] = now + self.duration
                    failures.clear()
            self.attempts.append(Attempt(account, accepted, locked, via))
            return accepted

    def locked(self, username):
        """True while the account of `username` is locked out."""
        with self._lock:
            return self._is_locked(account_of(username), self.clock())

    def _is_locked(self, account, now):
        until = self._locked_until.get(account)
        if until is not None and until <= now:
            del self._locked_until[account]
            until = None
        return until is not None

    def summary(self):
        """Counts for the control interface: attempts, refused ones, and the locked accounts."""
        with self._lock:
            now = self.clock()
            locked = sorted(f"{d}\\{u}" for d, u in list(self._locked_until) if self._is_locked((d, u), now))
            refused = sum(1 for a in self.attempts if not a.accepted)
            return {"attempts": len(self.attempts), "refused": refused, "locked": locked}


def _same(known, given):
    return secrets.compare_digest(known.encode(), given.encode())
