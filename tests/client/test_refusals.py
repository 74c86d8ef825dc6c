"""The credential guard: a refusal holds every sender back until its back-off passes, then lets
exactly one try; an operator's "fixed" or an accepted answer forgets it."""

import datetime as dt

import pytest

from cdms_api.exceptions import CDMSCredentialsRefusedError
from cdms_api.refusals import RECHECK_SECONDS, CredentialGuard, MemoryRefusals


class Clocks:
    """A UTC clock and a monotonic one, moved together."""

    def __init__(self):
        self.utc, self.mono = dt.datetime(2016, 3, 1, 9, 0, tzinfo=dt.UTC), 0.0

    def advance(self, seconds):
        self.utc += dt.timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def clocks():
    return Clocks()


def guard(store, clocks, backoff=60):
    return CredentialGuard(store, backoff=backoff, hint="the operator says so", clock=lambda: clocks.utc,
                           monotonic=lambda: clocks.mono)  # fmt: skip


def test_a_refusal_holds_every_guard_of_the_store_back_until_the_back_off_then_one_tries(clocks):
    store = MemoryRefusals()
    first, second = guard(store, clocks), guard(store, clocks)
    error = first.refused("AD FS refused the sign-in: The user name or password is incorrect.")
    assert "none are sent again before 2016-03-01 09:01:00 UTC, or until the operator says so" in str(error)
    for sender in (first, second):
        with pytest.raises(CDMSCredentialsRefusedError):
            sender.check()
        with pytest.raises(CDMSCredentialsRefusedError):
            sender.before_sending()
    clocks.advance(61)
    second.before_sending()  # the one try of this back-off
    with pytest.raises(CDMSCredentialsRefusedError):
        first.before_sending()
    second.accepted()  # it worked: the others send again once they read the store afresh
    clocks.advance(RECHECK_SECONDS)
    first.before_sending()
    assert store.current(clocks.utc) is None


def test_an_answer_proves_nothing_to_a_guard_that_sent_no_credentials(clocks):
    store = MemoryRefusals()
    sender, bystander = guard(store, clocks), guard(store, clocks)
    sender.refused("refused")
    bystander.accepted()  # say, a session signed in before the password changed still answers
    assert store.current(clocks.utc) is not None


def test_fixed_forgets_the_refusal_and_other_guards_see_it_within_the_recheck_time(clocks):
    store = MemoryRefusals()
    first, second = guard(store, clocks, backoff=900), guard(store, clocks, backoff=900)
    first.refused("refused")
    with pytest.raises(CDMSCredentialsRefusedError):
        second.check()
    first.fixed()
    with pytest.raises(CDMSCredentialsRefusedError):
        second.check()  # what it read is trusted a little longer
    clocks.advance(RECHECK_SECONDS)
    second.check()
    second.before_sending()


def test_the_back_off_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        CredentialGuard(backoff=0)
