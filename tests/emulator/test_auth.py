"""Windows authentication: an NTLM handshake per connection, as IIS does it."""

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from cdms_api import crm_codes
from cdms_api.emulator import Emulator
from tests.emulator.wire import JSON, assert_crm_error


@pytest.fixture(scope="module")
def ntlm_crm(tmp_path_factory):
    """An emulator that requires NTLM for CORP\\alice."""
    users = tmp_path_factory.mktemp("ntlm") / "users"
    users.write_text("CORP:alice:s3cret!\n")
    emu = Emulator(ntlm_users=str(users)).start()
    yield emu
    emu.stop()


def test_anonymous_request_is_401_offering_negotiate_and_ntlm(ntlm_crm):
    response = requests.get(f"{ntlm_crm.service_root}/AccountSet", headers=JSON, timeout=5)
    assert_crm_error(response, 401, crm_codes.UNAUTHORIZED)
    offered = response.headers["WWW-Authenticate"]
    assert "NTLM" in offered and "Negotiate" in offered


def test_good_password_completes_the_handshake_and_the_connection_stays_authenticated(ntlm_crm):
    ntlm_crm.stats.reset()
    with requests.Session() as session:
        session.auth = HttpNtlmAuth("CORP\\alice", "s3cret!")
        first = session.get(f"{ntlm_crm.service_root}/AccountSet", headers=JSON, timeout=5)
        second = session.post(f"{ntlm_crm.service_root}/AccountSet", json={"Name": "A"}, headers=JSON, timeout=5)
    assert (first.status_code, second.status_code) == (200, 201)
    assert len(ntlm_crm.stats.requests) == 2


def test_wrong_password_is_401(ntlm_crm):
    auth = HttpNtlmAuth("CORP\\alice", "wrong")
    response = requests.get(f"{ntlm_crm.service_root}/AccountSet", headers=JSON, auth=auth, timeout=5)
    assert response.status_code == 401


def test_unknown_user_is_401(ntlm_crm):
    auth = HttpNtlmAuth("CORP\\mallory", "s3cret!")
    response = requests.get(f"{ntlm_crm.service_root}/AccountSet", headers=JSON, auth=auth, timeout=5)
    assert response.status_code == 401
