"""NTLM against an emulator that demands it; credentials never reach logs or errors."""

import logging
import uuid

import pytest

from cdms_api.counting import count_requests
from cdms_api.exceptions import (
    CDMSCredentialsRefusedError,
    CDMSError,
    CDMSTimeoutError,
    CDMSUnauthorizedError,
    CDMSUnavailableError,
)

from .conftest import PASSWORD, USERNAME, ntlm_client

SECRETS = (PASSWORD, USERNAME, USERNAME.split("\\")[1])


def _assert_no_secret(*texts):
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def _messages(caplog):
    return [record.getMessage() for record in caplog.records]


def test_good_credentials_work_over_one_kept_alive_connection(ntlm_crm, caplog):
    with caplog.at_level(logging.DEBUG), ntlm_client(ntlm_crm) as client, count_requests() as counter:
        key = client.create("Account", {"Name": "Secure"})["AccountId"]
        assert client.get("Account", key)["Name"] == "Secure"
        client.update("Account", key, {"Name": "Safer"})
        client.delete("Account", key)
    assert [r.status for r in counter.requests] == [201, 200, 204, 204]
    # NTLM authenticates the connection once; urllib3 logs each new one it opens.
    assert sum("Starting new HTTP connection" in m for m in _messages(caplog)) == 1
    _assert_no_secret(*_messages(caplog))


def test_bad_credentials_are_refused_once_and_then_not_sent_again(ntlm_crm, caplog):
    client = ntlm_client(ntlm_crm, password="wrong")
    with (
        caplog.at_level(logging.DEBUG),
        count_requests() as counter,
        pytest.raises(CDMSCredentialsRefusedError) as raised,
    ):
        list(client.list("Account"))
    # One request, whose handshake sent the password once: NTLM's final 401 is not retried.
    assert counter.count == 1 and counter.requests[0].status == 401
    assert ntlm_crm.accounts.summary() == {"attempts": 1, "refused": 1, "locked": []}
    with count_requests() as again, pytest.raises(CDMSCredentialsRefusedError, match="none are sent again"):
        client.get("Account", str(uuid.uuid4()))
    assert again.count == 0 and ntlm_crm.accounts.summary()["attempts"] == 1
    assert isinstance(raised.value, CDMSUnauthorizedError)
    _assert_no_secret(str(raised.value), repr(raised.value), *_messages(caplog))
    assert "wrong" not in str(raised.value)


def test_a_401_without_a_handshake_is_sent_once_more_on_fresh_connections(ntlm_crm):
    with ntlm_client(ntlm_crm) as client:
        assert list(client.list("Account")) == [[]]  # the connection is authenticated
        ntlm_crm.faults.add(kind="status", status=401, count=1)
        with count_requests() as counter:
            assert list(client.list("Account")) == [[]]
    assert [r.status for r in counter.requests] == [401, 200]
    assert ntlm_crm.accounts.summary() == {"attempts": 2, "refused": 0, "locked": []}


def test_no_credentials_are_unauthorized(ntlm_crm):
    from cdms_api.client import CDMSClient

    with pytest.raises(CDMSUnauthorizedError):
        CDMSClient(ntlm_crm.base_url, timeout=0.5).get("Account", str(uuid.uuid4()))


@pytest.mark.parametrize(
    ("kind", "cls"),
    [("status", CDMSUnavailableError), ("hang", CDMSTimeoutError), ("html", CDMSError), ("cut", CDMSError)],
)
def test_faults_under_ntlm_leak_no_credentials(ntlm_crm, caplog, kind, cls):
    ntlm_crm.faults.add(kind=kind, status=503, count=10, seconds=5)
    client = ntlm_client(ntlm_crm, max_retries=1)
    with caplog.at_level(logging.DEBUG), pytest.raises(cls) as raised:
        client.create("Account", {"Name": "x"}, key=str(uuid.uuid4()))
    _assert_no_secret(str(raised.value), repr(raised.value), *_messages(caplog))
