"""Request counting and the retry timing policy, with no network."""

import random
import threading

from cdms_api.counting import RequestRecord, count_requests, record
from cdms_api.retry import RetryPolicy


def _record(method="GET"):
    record(RequestRecord(method, "AccountSet", 200, 1.0))


def test_counters_nest_and_stop_counting_when_closed():
    _record()
    with count_requests() as outer:
        _record()
        with count_requests() as inner:
            _record("DELETE")
        _record()
    _record()
    assert outer.count == 3
    assert inner.count == 1 and inner.requests[0].method == "DELETE"


def test_counts_requests_from_every_thread():
    with count_requests() as counter:
        threads = [threading.Thread(target=lambda: [_record() for _ in range(50)]) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert counter.count == 200


def _policy(**kwargs):
    now = [0.0]
    policy = RetryPolicy(clock=lambda: now[0], rng=random.Random(1), **kwargs)
    return policy, now


def test_delays_are_full_jitter_and_bounded_in_count():
    policy, _ = _policy(max_retries=3, backoff=1.0, max_retry_seconds=100)
    delays = [policy.delay(attempt, started=0.0) for attempt in (1, 2, 3, 4)]
    assert delays[3] is None
    for attempt, wait in enumerate(delays[:3], start=1):
        assert 0 <= wait <= 2 ** (attempt - 1)


def test_delays_are_bounded_in_total_time():
    policy, now = _policy(max_retries=10, backoff=0.001, max_retry_seconds=5)
    assert policy.delay(1, started=0.0) is not None
    now[0] = 5.0
    assert policy.delay(2, started=0.0) is None


def test_no_retries_when_max_retries_is_zero():
    policy, _ = _policy(max_retries=0)
    assert policy.delay(1, started=0.0) is None
