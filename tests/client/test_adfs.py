"""Claims sign-in through AD FS, against the emulator playing an internet-facing CRM and its AD FS.

The client signs in before its first request, keeps the CRM's session cookies, and signs in
again once when a session ends (a 302 to the sign-in page, or a 200 HTML form): a read goes on
where it was, a write is applied once. A wrong password is a clear CDMSError; no log line or
exception holds the user name, the password, the token or a cookie.
"""

import logging

import pytest

from cdms_api.adfs import SIGN_IN, parse_page
from cdms_api.auth import make_auth
from cdms_api.client import CDMSClient
from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSError, CDMSUnauthorizedError, CDMSUnexpectedResponseError
from tests.client.conftest import PASSWORD, USERNAME, adfs_client, adfs_url, ntlm_client


def _sign_ins(counter):
    """How many sign-ins a counter saw (each starts with a GET of the CRM's root)."""
    return sum(1 for r in counter.requests if r.entity_set == SIGN_IN and r.method == "GET" and r.status == 302)


def _service_requests(counter):
    return [(r.method, r.entity_set, r.status) for r in counter.requests if r.entity_set != SIGN_IN]


def _secrets(crm):
    return [PASSWORD, USERNAME, USERNAME.split("\\")[1], *crm.adfs._sessions]


def _no_secret_in(records, crm, *texts):
    seen = " ".join([*(r.getMessage() for r in records), *texts])
    leaked = [secret for secret in _secrets(crm) if secret in seen]
    assert not leaked


def test_signing_in_then_reading_and_writing_with_the_session_cookies(adfs_crm, caplog):
    caplog.set_level(logging.DEBUG, logger="cdms_api")
    with adfs_client(adfs_crm) as client, count_requests() as counter:
        record = client.create("Account", {"Name": "Acme"})
        client.update("Account", record["AccountId"], {"Address1_City": "York"})
        assert client.get("Account", record["AccountId"])["Address1_City"] == "York"
        cookies = set(client.session.cookies.keys())
    assert _sign_ins(counter) == 1 and adfs_crm.adfs.sign_ins == 1
    assert _service_requests(counter) == [
        ("POST", "AccountSet", 201),
        ("MERGE", "AccountSet", 204),
        ("GET", "AccountSet", 200),
    ]
    assert {"MSISAuth", "MSISAuth1"} <= cookies
    _no_secret_in(caplog.records, adfs_crm)


@pytest.mark.parametrize("expiry", ["redirect", "form"])
def test_a_session_ending_mid_read_signs_in_once_and_the_read_goes_on(adfs_crm, expiry):
    adfs_crm.adfs.expiry = expiry
    for n in range(120):
        adfs_crm.store.insert("Account", {"Name": f"Org {n:03}"})
    with adfs_client(adfs_crm) as client, count_requests() as counter:
        pages = client.list("Account")
        names = [r["Name"] for r in next(pages)]
        adfs_crm.adfs.expire_sessions()
        for page in pages:
            names += [r["Name"] for r in page]
    assert sorted(names) == [f"Org {n:03}" for n in range(120)]
    assert _sign_ins(counter) == 2
    ended = 302 if expiry == "redirect" else 200
    assert _service_requests(counter) == [
        ("GET", "AccountSet", 200),
        ("GET", "AccountSet", ended),
        ("GET", "AccountSet", 200),
        ("GET", "AccountSet", 200),
    ]


@pytest.mark.parametrize("expiry", ["redirect", "form"])
def test_a_session_ending_before_a_write_applies_it_once(adfs_crm, expiry):
    adfs_crm.adfs.expiry = expiry
    with adfs_client(adfs_crm) as client:
        key = client.create("Account", {"Name": "Acme"})["AccountId"]
        version = int(adfs_crm.store.get("Account", key)["VersionNumber"])
        adfs_crm.adfs.expire_sessions()
        client.create("Account", {"Name": "Beta"})  # no key: a POST that may not be retried
        adfs_crm.adfs.expire_sessions()
        client.update("Account", key, {"Address1_City": "York"})
        adfs_crm.adfs.expire_sessions()
        client.delete("Account", key)
    assert adfs_crm.store.count("Account") == 1  # Beta, created once; Acme deleted
    assert adfs_crm.adfs.sign_ins == 4
    merges = [m for m, _ in adfs_crm.stats.requests if m == "MERGE"]
    assert len(merges) == 1 and version > 0


def test_a_session_that_ends_at_once_is_refused_after_one_more_sign_in(adfs_crm):
    adfs_crm.adfs.session_seconds = 0
    refused = pytest.raises(CDMSUnauthorizedError, match="again right after signing in")
    with adfs_client(adfs_crm) as client, count_requests() as counter, refused as raised:
        client.create("Account", {"Name": "Acme"})
    assert _sign_ins(counter) == 2
    assert adfs_crm.store.count("Account") == 0
    _no_secret_in([], adfs_crm, str(raised.value))


def test_a_wrong_password_is_a_clear_error_naming_no_secret(adfs_crm, caplog):
    caplog.set_level(logging.DEBUG, logger="cdms_api")
    refused = pytest.raises(CDMSUnauthorizedError, match="AD FS refused the sign-in: Incorrect user ID")
    client = adfs_client(adfs_crm, password="not-the-password")
    with client, count_requests() as counter, refused as raised:
        list(client.list("Account"))
    assert isinstance(raised.value, CDMSError)
    assert _service_requests(counter) == []  # nothing reached the CRM's service
    _no_secret_in(caplog.records, adfs_crm, str(raised.value), repr(raised.value), "not-the-password")
    assert "not-the-password" not in " ".join(r.getMessage() for r in caplog.records)


def test_an_unknown_user_is_refused_too(adfs_crm):
    auth = make_auth("adfs", "TESTDOM\\mallory", PASSWORD, adfs_url=adfs_url(adfs_crm))
    refused = pytest.raises(CDMSUnauthorizedError, match="refused")
    with CDMSClient(adfs_crm.base_url, auth=auth, timeout=2.0) as client, refused:
        client.get("Account", "7a4814f9-2c5e-4d7a-8f2b-9e2b1c3d4e5f")


def test_credentials_are_never_posted_outside_the_named_ad_fs(adfs_crm):
    auth = make_auth("adfs", USERNAME, PASSWORD, adfs_url="https://sts.elsewhere.example/adfs/services/trust")
    refused = pytest.raises(CDMSUnauthorizedError, match="credentials not sent")
    with CDMSClient(adfs_crm.base_url, auth=auth, timeout=2.0) as client, count_requests() as counter, refused:
        list(client.list("Account"))
    assert [r.method for r in counter.requests] == ["GET", "GET"]  # the root, the form; no POST


def test_without_claims_auth_an_html_form_is_still_an_unexpected_answer(crm):
    crm.faults.add(kind="html")
    with CDMSClient(crm.base_url, timeout=2.0) as client, pytest.raises(CDMSUnexpectedResponseError):
        list(client.list("Account"))


def test_ntlm_still_works_beside_ad_fs(ntlm_crm):
    with ntlm_client(ntlm_crm) as client:
        assert list(client.list("Account")) == [[]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"adfs_url": None}, "CDMS_ADFS_URL"),
        ({"adfs_url": "sts.example"}, "CDMS_ADFS_URL"),
        ({"adfs_url": "https://u:p@sts.example/"}, "not in its URL"),
        ({"adfs_url": "https://sts.example/", "password": ""}, "password"),
    ],
)
def test_bad_ad_fs_settings_are_refused_up_front(kwargs, message):
    options = {"username": USERNAME, "password": PASSWORD, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_auth("adfs", **options)


def test_the_form_reader_finds_the_fields_and_the_error_label():
    page = parse_page(
        '<form action="/adfs/ls/?a=1&amp;b=2"><input type="hidden" name="h" value="x&amp;y"/>'
        '<input name="UserName"/><input name="Pw" type="password"/><input type="submit" name="go" value="Go"/>'
        '</form><span id="x_ErrorTextLabel">Bad password</span>'
    )
    (form,) = page.forms
    assert (form.action, form.user_field, form.password_field) == ("/adfs/ls/?a=1&b=2", "UserName", "Pw")
    assert form.fields == {"h": "x&y", "UserName": "", "Pw": ""}
    assert page.errors == ["Bad password"]
