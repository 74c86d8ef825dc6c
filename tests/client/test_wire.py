"""What the client puts on the wire and how it treats answers the emulator cannot give.

`responses` stands in for the CRM only here: redirects, foreign `__next` links and JSON of the
wrong shape are things a real deployment (a proxy, a claims sign-in) can send but the emulator
does not.
"""

import pytest
import responses

from cdms_api.client import CDMSClient
from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSUnexpectedResponseError

BASE = "http://crm.example"
PATH = "/XRMServices/2011/OrganizationData.svc"
ROOT = BASE + PATH
KEY = "7a4814f9-2c5e-4d7a-8f2b-9e2b1c3d4e5f"


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def _client():
    return CDMSClient(BASE, timeout=0.5, max_retries=2, backoff=0.001)


def test_every_request_asks_for_json_and_merge_is_tunnelled(mocked):
    mocked.post(
        f"{ROOT}/AccountSet(guid'{KEY}')",
        status=204,
        match=[responses.matchers.header_matcher({"Accept": "application/json", "X-HTTP-Method": "MERGE"})],
    )
    mocked.get(
        f"{ROOT}/AccountSet",
        json={"d": {"results": []}},
        match=[responses.matchers.header_matcher({"Accept": "application/json"})],
    )
    _client().update("Account", KEY, {"Name": "x"})
    assert list(_client().list("Account")) == [[]]
    assert mocked.calls[0].request.body == b'{"Name": "x"}'


def test_query_is_encoded_with_percent_20_and_literal_dollar(mocked):
    mocked.get(f"{ROOT}/AccountSet", json={"d": {"results": []}})
    list(_client().list("Account", filter="Name eq 'a b+c'", top=3))
    assert mocked.calls[0].request.url == f"{ROOT}/AccountSet?$filter=Name%20eq%20'a%20b%2Bc'&$top=3"


def test_next_links_are_followed_on_the_service_root_only(mocked):
    # A proxy rewrote the host of __next: the client keeps its own origin.
    mocked.get(
        f"{ROOT}/AccountSet",
        json={"d": {"results": [{"Name": "a"}], "__next": f"http://internal:5555{PATH}/AccountSet?$skiptoken=1"}},
        match=[responses.matchers.query_string_matcher("")],
    )
    mocked.get(
        f"{ROOT}/AccountSet?$skiptoken=1",
        json={"d": {"results": [{"Name": "b"}], "__next": "http://evil/steal"}},
    )
    pages = _client().list("Account")
    assert next(pages) == [{"Name": "a"}]
    assert next(pages) == [{"Name": "b"}]
    with pytest.raises(CDMSUnexpectedResponseError, match="outside"):
        next(pages)


@pytest.mark.parametrize(
    "body",
    [
        {"d": {"results": {"Name": "x"}}},
        {"results": []},
        {"d": {"Name": "a record, not a collection"}},
        {"d": {"results": [], "__next": 5}},
    ],
)
def test_collections_of_the_wrong_shape_are_unexpected(mocked, body):
    mocked.get(f"{ROOT}/AccountSet", json=body)
    with count_requests() as counter, pytest.raises(CDMSUnexpectedResponseError):
        list(_client().list("Account"))
    assert counter.count == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"d": {"AccountId": "7a48', "application/json"),
        (b'{"d": {"results": []}}', "application/json"),
        (b"<html>Sign in</html>", "text/html"),
    ],
)
def test_records_of_the_wrong_shape_are_unexpected(mocked, body, content_type):
    mocked.get(f"{ROOT}/AccountSet(guid'{KEY}')", body=body, content_type=content_type)
    with pytest.raises(CDMSUnexpectedResponseError):
        _client().get("Account", KEY)


def test_redirect_to_a_sign_in_page_is_not_followed(mocked):
    mocked.get(f"{ROOT}/AccountSet(guid'{KEY}')", status=302, headers={"Location": "https://sts.example/adfs"})
    with count_requests() as counter, pytest.raises(CDMSUnexpectedResponseError) as raised:
        _client().get("Account", KEY)
    assert counter.count == 1 and raised.value.status == 302


def test_create_answering_no_record_is_unexpected(mocked):
    mocked.post(f"{ROOT}/AccountSet", status=204)
    with pytest.raises(CDMSUnexpectedResponseError, match="empty"):
        _client().create("Account", {"Name": "x"})


def test_credentials_in_the_base_url_are_refused():
    with pytest.raises(ValueError) as raised:
        CDMSClient("http://DOM%5Cjo:secret@crm.example")
    assert "secret" not in str(raised.value)


def test_every_request_has_a_timeout():
    with pytest.raises(ValueError):
        CDMSClient(BASE, timeout=None)
    assert CDMSClient(BASE, timeout=(2, 9)).timeout == (2.0, 9.0)
