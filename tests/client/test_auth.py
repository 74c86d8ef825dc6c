"""Auth objects: none, NTLM, or any requests auth, renewed once after a 401."""

import pytest
import responses
from requests.auth import AuthBase
from requests_ntlm import HttpNtlmAuth

from cdms_api.auth import make_auth, renew
from cdms_api.client import CDMSClient
from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSUnauthorizedError

ROOT = "http://crm.example/XRMServices/2011/OrganizationData.svc"


class TokenAuth(AuthBase):
    """A pluggable auth that stamps a header and counts its instances."""

    made = 0

    def __init__(self):
        TokenAuth.made += 1
        self.serial = TokenAuth.made

    def __copy__(self):
        return TokenAuth()

    def __call__(self, request):
        request.headers["X-Token"] = f"token-{self.serial}"
        return request


def test_make_auth():
    assert make_auth("none", "", "") is None
    auth = make_auth("ntlm", "DOM\\jo", "pw")
    assert isinstance(auth, HttpNtlmAuth) and (auth.username, auth.password) == ("DOM\\jo", "pw")


@pytest.mark.parametrize(("kind", "username", "password"), [("ntlm", "", "s3cret"), ("kerberos", "u", "s3cret")])
def test_make_auth_errors_do_not_echo_the_password(kind, username, password):
    with pytest.raises(ValueError) as raised:
        make_auth(kind, username, password)
    assert "s3cret" not in str(raised.value)


def test_renew_gives_a_fresh_object_with_the_same_credentials():
    auth = make_auth("ntlm", "DOM\\jo", "pw")
    fresh = renew(auth)
    assert fresh is not auth and (fresh.username, fresh.password) == ("DOM\\jo", "pw")
    assert renew(None) is None


def test_a_pluggable_auth_is_renewed_once_after_a_401():
    with responses.RequestsMock() as mock:
        mock.get(
            f"{ROOT}/AccountSet", status=401, match=[responses.matchers.header_matcher({"X-Token": "token-1"})]
        )
        mock.get(
            f"{ROOT}/AccountSet",
            json={"d": {"results": []}},
            match=[responses.matchers.header_matcher({"X-Token": "token-2"})],
        )
        TokenAuth.made = 0
        client = CDMSClient("http://crm.example", auth=TokenAuth(), timeout=0.5)
        with count_requests() as counter:
            assert list(client.list("Account")) == [[]]
    assert [r.status for r in counter.requests] == [401, 200]


def test_a_second_401_is_raised():
    with responses.RequestsMock() as mock:
        mock.get(f"{ROOT}/AccountSet", status=401)
        client = CDMSClient("http://crm.example", auth=TokenAuth(), timeout=0.5)
        with count_requests() as counter, pytest.raises(CDMSUnauthorizedError):
            list(client.list("Account"))
    assert counter.count == 2
