"""Windows authentication (an NTLM handshake per connection, as IIS does it), and claims sign-in
through AD FS (an internet-facing deployment)."""

from urllib.parse import urljoin

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from cdms_api import crm_codes
from cdms_api.adfs import parse_page
from cdms_api.emulator import Emulator
from cdms_api.emulator.__main__ import parse_args
from cdms_api.emulator.adfs import WRONG_PASSWORD, ClaimsSignIn
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


@pytest.fixture(scope="module")
def adfs_crm(tmp_path_factory):
    """An emulator playing an internet-facing CRM and its AD FS, for CORP\\alice."""
    users = tmp_path_factory.mktemp("adfs") / "users"
    users.write_text("CORP:alice:s3cret!\n")
    emu = Emulator(adfs_users=str(users)).start()
    yield emu
    emu.stop()


def _sign_in(crm, session, username="CORP\\alice", password="s3cret!"):
    """Walk the sign-in as a browser would; returns the last answer."""
    start = session.get(f"{crm.base_url}/?whr=urn:adfs", allow_redirects=False, timeout=5)
    assert start.status_code == 302 and start.headers["Location"].startswith("/adfs/ls/?wa=wsignin1.0")
    form = session.get(crm.base_url + start.headers["Location"], timeout=5)
    (page,) = parse_page(form.text).forms
    fields = {**page.fields, page.user_field: username, page.password_field: password}
    return session.post(urljoin(form.url, page.action), data=fields, allow_redirects=False, timeout=5)


def test_without_a_session_the_service_redirects_to_the_sign_in_page_before_handling(adfs_crm):
    adfs_crm.stats.reset()
    response = requests.post(
        f"{adfs_crm.service_root}/AccountSet", json={"Name": "A"}, headers=JSON, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/adfs/ls/")
    assert adfs_crm.store.count("Account") == 0 and adfs_crm.stats.requests == []


def test_the_sign_in_issues_a_one_time_token_and_the_session_cookies(adfs_crm):
    with requests.Session() as session:
        answer = _sign_in(adfs_crm, session)
        (token_form,) = parse_page(answer.text).forms
        assert token_form.password_field is None and set(token_form.fields) == {"wa", "wresult", "wctx"}
        taken = session.post(token_form.action, data=token_form.fields, allow_redirects=False, timeout=5)
        assert taken.status_code == 302 and {"MSISAuth", "MSISAuth1"} <= set(session.cookies.keys())
        assert session.get(f"{adfs_crm.service_root}/AccountSet", headers=JSON, timeout=5).status_code == 200
        again = requests.post(token_form.action, data=token_form.fields, allow_redirects=False, timeout=5)
        assert again.status_code == 200 and "not valid" in again.text  # a token is good once


def test_a_wrong_password_shows_the_form_again_with_an_error_label(adfs_crm):
    with requests.Session() as session:
        answer = _sign_in(adfs_crm, session, password="wrong")
    page = parse_page(answer.text)
    assert page.forms[0].password_field and page.errors == [WRONG_PASSWORD]


@pytest.mark.parametrize(("expiry", "status"), [("redirect", 302), ("form", 200)])
def test_an_ended_session_is_answered_as_configured(adfs_crm, expiry, status):
    adfs_crm.adfs.expiry = expiry
    try:
        with requests.Session() as session:
            token_form = parse_page(_sign_in(adfs_crm, session).text).forms[0]
            session.post(token_form.action, data=token_form.fields, allow_redirects=False, timeout=5)
            adfs_crm.adfs.expire_sessions()
            ended = session.get(
                f"{adfs_crm.service_root}/AccountSet", headers=JSON, allow_redirects=False, timeout=5
            )
    finally:
        adfs_crm.adfs.expiry = "redirect"
    assert ended.status_code == status
    assert "html" in ended.headers["Content-Type"]
    if expiry == "form":
        assert parse_page(ended.text).forms[0].password_field


def test_sessions_last_the_configured_time(tmp_path):
    users = tmp_path / "users"
    users.write_text("CORP:alice:s3cret!\n")
    now = [0.0]
    adfs = ClaimsSignIn(str(users), session_seconds=60, clock=lambda: now[0])
    adfs._sessions["s" * 32] = now[0] + 60
    environ = {"HTTP_COOKIE": f"MSISAuth={'s' * 16}; MSISAuth1={'s' * 16}"}
    assert adfs.live(environ)
    now[0] = 60.0
    assert not adfs.live(environ)


def test_the_command_line_chooses_the_auth():
    assert parse_args([]).auth == "none"
    args = parse_args(
        ["--auth", "adfs", "--users", "u.txt", "--adfs-session-seconds", "5", "--adfs-expiry", "form"]
    )
    assert (args.adfs_users, args.ntlm_users, args.adfs_session_seconds, args.adfs_expiry) == (
        "u.txt",
        None,
        5,
        "form",
    )
    assert parse_args(["--ntlm-users", "n.txt"]).ntlm_users == "n.txt"
    with pytest.raises(SystemExit):
        parse_args(["--auth", "adfs"])
