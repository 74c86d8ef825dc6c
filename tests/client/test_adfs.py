"""Claims sign-in through AD FS, against the emulator playing an internet-facing CRM and its STSes.

The client walks what a browser walks: through the CRM's own STS (when there is one) to the
organisation's AD FS, posts the WebForms sign-in page with its button, and posts each token on,
once per STS. It signs in before its first request, keeps the CRM's session cookies, and signs
in again once when a session ends: a read goes on where it was, a write is applied once.
Anything but a session the CRM set is a named error, and a refusal is remembered: the password
reaches AD FS once, then not again until the back-off passes or an operator says it is fixed.
No log line or exception holds the user name, the password, the token or a cookie.
"""

import datetime as dt
import logging
import threading

import pytest

from cdms_api.adfs import SIGN_IN
from cdms_api.auth import make_auth
from cdms_api.client import CDMSClient
from cdms_api.counting import count_requests
from cdms_api.exceptions import (
    CDMSCredentialsRefusedError,
    CDMSError,
    CDMSSignInError,
    CDMSUnauthorizedError,
    CDMSUnexpectedResponseError,
)
from cdms_api.refusals import CredentialGuard
from tests.client.conftest import PASSWORD, USERNAME, adfs_client, adfs_url, adfs_whr, ntlm_client

WRONG = "not-the-password"
ONE_STS = [("GET", 302), ("GET", 200), ("POST", 200), ("POST", 302)]
TWO_STS = [("GET", 302), ("GET", 302), ("GET", 200), ("POST", 200), ("POST", 200), ("POST", 302)]


def _sign_in_requests(counter):
    return [(r.method, r.status) for r in counter.requests if r.entity_set == SIGN_IN]


def _service_requests(counter):
    return [(r.method, r.entity_set, r.status) for r in counter.requests if r.entity_set != SIGN_IN]


def _secrets(crm):
    return [PASSWORD, WRONG, USERNAME, USERNAME.split("\\")[1], *crm.adfs._sessions]


def _no_secret_in(records, crm, *texts):
    seen = " ".join([*(r.getMessage() for r in records), *texts])
    leaked = [secret for secret in _secrets(crm) if secret in seen]
    assert not leaked


class Clock:
    """A settable UTC clock for a CredentialGuard."""

    def __init__(self):
        self.now = dt.datetime(2016, 3, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += dt.timedelta(seconds=seconds)


def test_one_sign_in_through_one_sts_is_four_requests_then_the_session_cookies_serve(adfs_crm, caplog):
    caplog.set_level(logging.DEBUG, logger="cdms_api")
    with adfs_client(adfs_crm) as client, count_requests() as counter:
        record = client.create("Account", {"Name": "Acme"})
        client.update("Account", record["AccountId"], {"Address1_City": "York"})
        assert client.get("Account", record["AccountId"])["Address1_City"] == "York"
        cookies = set(client.session.cookies.keys())
    assert _sign_in_requests(counter) == ONE_STS and adfs_crm.adfs.sign_ins == 1
    assert _service_requests(counter) == [
        ("POST", "AccountSet", 201),
        ("MERGE", "AccountSet", 204),
        ("GET", "AccountSet", 200),
    ]
    assert {"MSISAuth", "MSISAuth1"} <= cookies
    assert adfs_crm.accounts.summary() == {"attempts": 1, "refused": 0, "locked": []}
    _no_secret_in(caplog.records, adfs_crm)


def test_one_sign_in_through_two_stses_is_six_requests(two_sts_crm, caplog):
    caplog.set_level(logging.DEBUG, logger="cdms_api")
    with adfs_client(two_sts_crm) as client, count_requests() as counter:
        assert list(client.list("Account")) == [[]]
    assert _sign_in_requests(counter) == TWO_STS
    assert _service_requests(counter) == [("GET", "AccountSet", 200)]
    assert two_sts_crm.adfs.sign_ins == 1 and two_sts_crm.accounts.summary()["attempts"] == 1
    _no_secret_in(caplog.records, two_sts_crm)


def test_without_a_known_home_realm_the_home_realm_page_is_answered_with_the_ad_fs(two_sts_crm):
    auth = make_auth("adfs", USERNAME, PASSWORD, adfs_url=adfs_url(two_sts_crm))  # whr: the sign-in URL
    with CDMSClient(two_sts_crm.base_url, auth=auth, timeout=2.0) as client, count_requests() as counter:
        assert list(client.list("Account")) == [[]]
    # The CRM, its STS's home-realm page, its choice posted with the button, then as with a whr.
    assert _sign_in_requests(counter) == [("GET", 302), ("GET", 200), ("POST", 302), *TWO_STS[2:]]


def test_a_home_realm_page_without_the_ad_fs_stops_before_the_password(two_sts_crm):
    elsewhere = "https://sts.elsewhere.example/adfs/ls/"
    auth = make_auth("adfs", USERNAME, PASSWORD, adfs_url=elsewhere, whr="urn:elsewhere")
    failed = pytest.raises(CDMSSignInError, match="home-realm page .* offers CRM AD FS .*Organisation AD FS")
    with CDMSClient(two_sts_crm.base_url, auth=auth, timeout=2.0) as client, count_requests() as counter, failed:
        list(client.list("Account"))
    assert _sign_in_requests(counter) == [("GET", 302), ("GET", 200)]
    assert two_sts_crm.accounts.summary()["attempts"] == 0


@pytest.mark.parametrize("expiry", ["redirect", "form"])
def test_a_session_ending_mid_read_signs_in_once_and_the_read_goes_on(two_sts_crm, expiry):
    two_sts_crm.adfs.expiry = expiry
    for n in range(120):
        two_sts_crm.store.insert("Account", {"Name": f"Org {n:03}"})
    with adfs_client(two_sts_crm) as client, count_requests() as counter:
        pages = client.list("Account")
        names = [r["Name"] for r in next(pages)]
        two_sts_crm.adfs.expire_sessions()
        for page in pages:
            names += [r["Name"] for r in page]
    assert sorted(names) == [f"Org {n:03}" for n in range(120)]
    assert _sign_in_requests(counter) == TWO_STS + TWO_STS
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


def test_threads_sharing_an_auth_sign_in_once_and_share_its_session(adfs_crm):
    auth = make_auth("adfs", USERNAME, PASSWORD, adfs_url=adfs_url(adfs_crm), whr=adfs_whr(adfs_crm))
    results, start = [], threading.Barrier(6)

    def work():
        with CDMSClient(adfs_crm.base_url, auth=auth, timeout=5.0) as client:
            start.wait()
            results.append(list(client.list("Account")))

    with count_requests() as counter:
        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == [[[]]] * 6
    assert _sign_in_requests(counter) == ONE_STS and adfs_crm.adfs.sign_ins == 1


def test_a_session_refused_right_after_signing_in_is_a_refusal_remembered(adfs_crm):
    adfs_crm.adfs.session_seconds = 0
    refused = pytest.raises(CDMSCredentialsRefusedError, match="refused the session right after a fresh sign-in")
    with adfs_client(adfs_crm) as client, count_requests() as counter:
        with refused as raised:
            client.create("Account", {"Name": "Acme"})
        with pytest.raises(CDMSCredentialsRefusedError):
            client.create("Account", {"Name": "Acme"})
    assert _sign_in_requests(counter) == ONE_STS  # one sign-in, then nothing sent
    assert adfs_crm.store.count("Account") == 0
    _no_secret_in([], adfs_crm, str(raised.value))


def test_a_wrong_password_reaches_ad_fs_once_until_the_back_off_passes(adfs_crm, caplog):
    caplog.set_level(logging.DEBUG, logger="cdms_api")
    clock = Clock()
    guard = CredentialGuard(backoff=900, clock=clock)
    auth = make_auth("adfs", USERNAME, WRONG, adfs_url=adfs_url(adfs_crm), whr=adfs_whr(adfs_crm), guard=guard)
    message = "AD FS refused the sign-in: The user name or password is incorrect.*none are sent again before"
    with CDMSClient(adfs_crm.base_url, auth=auth, timeout=2.0) as client, count_requests() as counter:
        with pytest.raises(CDMSCredentialsRefusedError, match=message) as raised:
            list(client.list("Account"))
        for _ in range(20):
            with pytest.raises(CDMSCredentialsRefusedError):
                client.get("Account", "7a4814f9-2c5e-4d7a-8f2b-9e2b1c3d4e5f")
        assert adfs_crm.accounts.summary() == {"attempts": 1, "refused": 1, "locked": []}
        clock.advance(901)
        with pytest.raises(CDMSCredentialsRefusedError):
            list(client.list("Account"))
    assert adfs_crm.accounts.summary()["attempts"] == 2
    assert _sign_in_requests(counter) == [*ONE_STS[:3], *ONE_STS[:3]]
    assert _service_requests(counter) == []  # nothing reached the CRM's service
    assert isinstance(raised.value, CDMSUnauthorizedError) and isinstance(raised.value, CDMSError)
    _no_secret_in(caplog.records, adfs_crm, str(raised.value), repr(raised.value))


def test_an_operator_saying_the_credentials_are_fixed_lets_the_next_request_sign_in(adfs_crm):
    guard = CredentialGuard(backoff=900)
    wrong = make_auth("adfs", USERNAME, WRONG, adfs_url=adfs_url(adfs_crm), whr=adfs_whr(adfs_crm), guard=guard)
    refused = pytest.raises(CDMSCredentialsRefusedError)
    with CDMSClient(adfs_crm.base_url, auth=wrong, timeout=2.0) as client, refused:
        list(client.list("Account"))
    guard.fixed()
    right = make_auth("adfs", USERNAME, PASSWORD, adfs_url=adfs_url(adfs_crm), whr=adfs_whr(adfs_crm), guard=guard)
    with CDMSClient(adfs_crm.base_url, auth=right, timeout=2.0) as client:
        assert list(client.list("Account")) == [[]]
    assert adfs_crm.accounts.summary() == {"attempts": 2, "refused": 1, "locked": []}
    assert guard.in_force() is None


def test_many_threads_with_a_wrong_password_never_lock_the_account(adfs_crm):
    adfs_crm.accounts.threshold = 2  # Active Directory locks after two failures here
    auth = make_auth("adfs", USERNAME, WRONG, adfs_url=adfs_url(adfs_crm), whr=adfs_whr(adfs_crm))
    refusals = []

    def work():
        with CDMSClient(adfs_crm.base_url, auth=auth, timeout=5.0) as client:
            for _ in range(10):
                try:
                    client.create("Account", {"Name": "x"})
                except CDMSCredentialsRefusedError:
                    refusals.append(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refusals) == 80
    assert adfs_crm.accounts.summary() == {"attempts": 1, "refused": 1, "locked": []}


def test_an_ad_fs_error_page_is_a_named_error_with_its_text(adfs_crm):
    realms = adfs_crm.adfs.account_sts.relying_parties
    saved = dict(realms)
    realms.clear()  # AD FS no longer knows the CRM as a relying party
    failed = pytest.raises(CDMSSignInError, match="answered There was a problem accessing the site")
    try:
        with adfs_client(adfs_crm) as client, count_requests() as counter, failed:
            list(client.list("Account"))
    finally:
        realms.update(saved)
    assert _sign_in_requests(counter) == [("GET", 302), ("GET", 200)]
    assert adfs_crm.accounts.summary()["attempts"] == 0


def test_a_token_is_never_posted_to_an_origin_the_chain_did_not_lead_to(adfs_crm):
    realms = adfs_crm.adfs.account_sts.relying_parties
    saved = dict(realms)
    realms.update(dict.fromkeys(saved, "http://127.0.0.2:9/"))  # AD FS would post the token away
    failed = pytest.raises(CDMSSignInError, match="led to 127.0.0.2:9, which is neither the CRM")
    try:
        with adfs_client(adfs_crm) as client, count_requests() as counter, failed:
            list(client.list("Account"))
    finally:
        realms.update(saved)
    assert _sign_in_requests(counter) == ONE_STS[:3]  # the token stayed here
    assert adfs_crm.accounts.summary() == {"attempts": 1, "refused": 0, "locked": []}


def test_credentials_are_never_posted_outside_the_named_ad_fs(adfs_crm):
    auth = make_auth("adfs", USERNAME, PASSWORD, adfs_url="https://sts.elsewhere.example/adfs/ls/")
    refused = pytest.raises(CDMSSignInError, match="credentials not sent")
    with CDMSClient(adfs_crm.base_url, auth=auth, timeout=2.0) as client, count_requests() as counter, refused:
        list(client.list("Account"))
    assert [r.method for r in counter.requests] == ["GET", "GET"]  # the root, the form; no POST
    assert adfs_crm.accounts.summary()["attempts"] == 0


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
        ({"adfs_url": "https://sts.example/", "sts_urls": ["sts2.example"]}, "CDMS_ADFS_STS_URLS"),
    ],
)
def test_bad_ad_fs_settings_are_refused_up_front(kwargs, message):
    options = {"username": USERNAME, "password": PASSWORD, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_auth("adfs", **options)
