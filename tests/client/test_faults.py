"""Each failure becomes its exception, and only idempotent requests are retried.

Faults come from the emulator's fault control; the client under test has 0.5 s timeouts, two
retries and millisecond backoff, so every case costs well under a second.
"""

import logging
import socket
import uuid

import pytest

from cdms_api import crm_codes
from cdms_api.client import CDMSClient
from cdms_api.counting import count_requests
from cdms_api.exceptions import (
    CDMSConnectionError,
    CDMSForbiddenError,
    CDMSNotFoundError,
    CDMSServerError,
    CDMSTimeoutError,
    CDMSUnauthorizedError,
    CDMSUnavailableError,
    CDMSUnexpectedResponseError,
)


def _account(crm, name="Acme"):
    return crm.store.insert("Account", {"Name": name})["AccountId"]


# Reads: retried on 503, connection cuts and timeouts; other errors are raised at once.


def test_get_is_retried_after_a_503_and_logs_a_warning(fast_client, crm, caplog):
    key = _account(crm)
    crm.faults.add(kind="status", status=503, count=1, method="GET")
    with caplog.at_level(logging.DEBUG, logger="cdms_api"), count_requests() as counter:
        assert fast_client.get("Account", key)["Name"] == "Acme"
    assert [(r.status, r.attempt) for r in counter.requests] == [(503, 1), (200, 2)]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "AccountSet" in warnings[0].getMessage()
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("GET AccountSet -> 200" in m and "attempt 2" in m for m in debug)


def test_a_lasting_503_raises_unavailable_after_the_retries(fast_client, crm):
    key = _account(crm)
    crm.faults.add(kind="status", status=503, count=10, method="GET")
    with count_requests() as counter, pytest.raises(CDMSUnavailableError) as raised:
        fast_client.get("Account", key)
    assert counter.count == 3 and raised.value.attempt == 3
    assert raised.value.status == 503 and raised.value.code == crm_codes.SERVER_ERROR


@pytest.mark.parametrize("kind", ["hang", "cut"])
def test_get_survives_one_hang_or_cut(fast_client, crm, kind):
    key = _account(crm)
    crm.faults.add(kind=kind, count=1, method="GET", seconds=5)
    with count_requests() as counter:
        assert fast_client.get("Account", key)["AccountId"] == key
    assert counter.count == 2


def test_a_lasting_hang_raises_timeout(fast_client, crm):
    key = _account(crm)
    crm.faults.add(kind="hang", count=10, method="GET", seconds=5)
    with count_requests() as counter, pytest.raises(CDMSTimeoutError) as raised:
        fast_client.get("Account", key)
    assert counter.count == 3 and raised.value.status is None and raised.value.method == "GET"


def test_an_unreachable_crm_raises_connection_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = CDMSClient(f"http://127.0.0.1:{port}", timeout=0.5, max_retries=1, backoff=0.001)
    with count_requests() as counter, pytest.raises(CDMSConnectionError) as raised:
        client.get("Account", str(uuid.uuid4()))
    assert counter.count == 2 and str(port) in raised.value.url


def test_the_retry_time_budget_stops_retries(crm):
    key = _account(crm)
    crm.faults.add(kind="status", status=503, count=10, method="GET")
    client = CDMSClient(crm.base_url, timeout=0.5, max_retries=5, backoff=100.0, max_retry_seconds=0.001)
    with count_requests() as counter, pytest.raises(CDMSUnavailableError):
        client.get("Account", key)
    assert counter.count == 1


def test_html_sign_in_page_is_unexpected_and_not_retried(fast_client, crm):
    key = _account(crm)
    crm.faults.add(kind="html", count=1, method="GET")
    with count_requests() as counter, pytest.raises(CDMSUnexpectedResponseError) as raised:
        fast_client.get("Account", key)
    assert counter.count == 1 and raised.value.status == 200


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (500, CDMSServerError),
        (403, CDMSForbiddenError),
        (401, CDMSUnauthorizedError),
        (404, CDMSNotFoundError),
    ],
)
def test_status_faults_map_to_their_exception_without_retry(fast_client, crm, status, cls):
    crm.faults.add(kind="status", status=status, count=10, method="GET")
    with count_requests() as counter, pytest.raises(cls) as raised:
        list(fast_client.list("Account"))
    # A 401 is sent once more with fresh auth and connections; nothing else is repeated.
    assert counter.count == (2 if status == 401 else 1)
    assert type(raised.value) is cls and raised.value.status == status


def test_one_401_is_cured_by_re_authenticating(fast_client, crm):
    crm.faults.add(kind="status", status=401, count=1, method="GET")
    with count_requests() as counter:
        assert list(fast_client.list("Account")) == [[]]
    assert [r.status for r in counter.requests] == [401, 200]


def test_paging_limit_is_a_server_error(crm_client, crm):
    with pytest.raises(CDMSServerError) as raised:
        list(crm_client.list("Account", skip=5000, top=1))
    assert raised.value.code == crm_codes.PAGING_LIMIT and raised.value.status == 500


# Writes: a keyed create, MERGE and DELETE are retried; a create without a key never is.


@pytest.mark.parametrize(("kind", "status"), [("status", 503), ("cut", None), ("hang", None)])
def test_keyed_create_whose_answer_is_lost_makes_exactly_one_record(fast_client, crm, kind, status):
    key = str(uuid.uuid4())
    crm.faults.add(kind=kind, status=status or 503, count=1, method="POST", after=True, seconds=5)
    with count_requests() as counter:
        record = fast_client.create("Account", {"Name": "Once"}, key=key)
    assert record["AccountId"] == key and record["Name"] == "Once"
    assert crm.store.count("Account") == 1
    # the lost create, the retry answering "duplicate key", and the read-back
    assert [r.method for r in counter.requests] == ["POST", "POST", "GET"]


def test_keyed_create_retried_after_a_503_before_the_write(fast_client, crm):
    key = str(uuid.uuid4())
    crm.faults.add(kind="status", status=503, count=1, method="POST")
    with count_requests() as counter:
        assert fast_client.create("Account", {"Name": "Once"}, key=key)["AccountId"] == key
    assert counter.count == 2 and crm.store.count("Account") == 1


@pytest.mark.parametrize(
    ("kind", "after", "cls", "records"),
    [
        ("status", False, CDMSUnavailableError, 0),
        ("status", True, CDMSUnavailableError, 1),
        ("cut", True, CDMSConnectionError, 1),
        ("hang", True, CDMSTimeoutError, 1),
    ],
)
def test_create_without_a_key_is_never_retried(fast_client, crm, kind, after, cls, records):
    crm.faults.add(kind=kind, status=503, count=1, method="POST", after=after, seconds=5)
    with count_requests() as counter, pytest.raises(cls):
        fast_client.create("Account", {"Name": "Maybe"})
    assert counter.count == 1 and crm.store.count("Account") == records


@pytest.mark.parametrize("kind", ["status", "cut", "hang"])
def test_merge_is_retried_after_a_lost_answer(fast_client, crm, kind):
    key = _account(crm)
    crm.faults.add(kind=kind, status=503, count=1, method="MERGE", after=True, seconds=5)
    with count_requests() as counter:
        fast_client.update("Account", key, {"Address1_City": "York"})
    assert counter.count == 2 and crm.store.get("Account", key)["Address1_City"] == "York"


@pytest.mark.parametrize("kind", ["status", "cut", "hang"])
def test_delete_whose_answer_is_lost_counts_as_done(fast_client, crm, kind):
    key = _account(crm)
    crm.faults.add(kind=kind, status=503, count=1, method="DELETE", after=True, seconds=5)
    with count_requests() as counter:
        assert fast_client.delete("Account", key) is None
    assert [r.status for r in counter.requests] == [503 if kind == "status" else None, 404]
    assert crm.store.get("Account", key) is None
