"""Windows authentication (an NTLM handshake per connection, as IIS does it), and claims sign-in
through AD FS (an internet-facing deployment)."""

import time
from urllib.parse import urljoin

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from cdms_api import crm_codes
from cdms_api.emulator import Emulator
from cdms_api.emulator.__main__ import parse_args
from cdms_api.emulator.accounts import Accounts
from cdms_api.emulator.adfs import PROBLEM, PROVIDERS_BUTTON, PROVIDERS_FIELD, SUBMIT_BUTTON, WRONG_PASSWORD
from cdms_api.html_forms import parse_page
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


def test_ntlm_locks_an_account_after_the_threshold_of_failures_as_active_directory_does(tmp_path):
    users = tmp_path / "users"
    users.write_text("CORP:alice:s3cret!\n")
    emu = Emulator(ntlm_users=str(users), lockout_threshold=3).start()
    try:
        for _ in range(3):
            wrong = HttpNtlmAuth("CORP\\alice", "wrong")
            response = requests.get(f"{emu.service_root}/AccountSet", headers=JSON, auth=wrong, timeout=5)
            assert response.status_code == 401
        right = HttpNtlmAuth("CORP\\alice", "s3cret!")
        response = requests.get(f"{emu.service_root}/AccountSet", headers=JSON, auth=right, timeout=5)
        assert response.status_code == 401  # locked: even the right password is refused
        assert emu.accounts.summary() == {"attempts": 4, "refused": 4, "locked": ["corp\\alice"]}
    finally:
        emu.stop()


def test_unknown_user_is_401(ntlm_crm):
    auth = HttpNtlmAuth("CORP\\mallory", "s3cret!")
    response = requests.get(f"{ntlm_crm.service_root}/AccountSet", headers=JSON, auth=auth, timeout=5)
    assert response.status_code == 401


@pytest.fixture(scope="module")
def adfs_crm(tmp_path_factory):
    """An emulator playing an internet-facing CRM, its own STS and the AD FS, for CORP\\alice."""
    users = tmp_path_factory.mktemp("adfs") / "users"
    users.write_text("CORP:alice:s3cret!\n")
    emu = Emulator(adfs_users=str(users), resource_sts=True, lockout_threshold=3).start()
    yield emu
    emu.stop()


@pytest.fixture
def crm(adfs_crm):
    """The module's emulator with its sessions, attempts and locks forgotten."""
    adfs_crm.reset()
    adfs_crm.adfs.expire_sessions()
    yield adfs_crm
    adfs_crm.adfs.expiry = "redirect"


def _get(session, url):
    return session.get(url, allow_redirects=False, timeout=5)


def _to_sign_in_form(crm, session):
    """From the CRM's root through its STS (whr) to the AD FS sign-in page."""
    start = _get(session, f"{crm.base_url}/?whr={crm.adfs.account_sts.identifier}")
    assert start.status_code == 302 and start.headers["Location"].startswith(f"{crm.resource_sts_url}/adfs/ls/?")
    federated = _get(session, start.headers["Location"])
    assert federated.status_code == 302 and federated.headers["Location"].startswith(f"{crm.adfs_url}/adfs/ls/?")
    return _get(session, federated.headers["Location"])


def _post(session, page_response, form, **data):
    return session.post(urljoin(page_response.url, form.action), data=data, allow_redirects=False, timeout=5)


def _sign_in(crm, session, password="s3cret!", button=True):
    """Post the AD FS sign-in form; returns its answer."""
    page = _to_sign_in_form(crm, session)
    (form,) = parse_page(page.text).forms
    values = {form.user_field: "CORP\\alice", form.password_field: password}
    clicked = form.named(SUBMIT_BUTTON) if button else None
    return _post(session, page, form, **dict(form.submission(clicked, values)))


def _post_token(session, answer):
    (form,) = parse_page(answer.text).forms
    return session.post(form.action, data=form.fields, allow_redirects=False, timeout=5), form


def test_without_a_session_the_service_redirects_to_the_crm_s_sts_before_handling(crm):
    crm.stats.reset()
    response = requests.post(
        f"{crm.service_root}/AccountSet", json={"Name": "A"}, headers=JSON, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302 and response.headers["Location"].startswith(crm.resource_sts_url)
    assert crm.store.count("Account") == 0 and crm.stats.requests == []


def test_the_sign_in_page_is_a_webforms_page_with_its_hidden_fields_and_button(crm):
    with requests.Session() as session:
        page = _to_sign_in_form(crm, session)
    (form,) = parse_page(page.text).forms
    assert form.action.startswith("FormsSignIn.aspx?wa=wsignin1.0") and form.method == "post"
    assert {"__VIEWSTATE", "__VIEWSTATEGENERATOR", "__EVENTVALIDATION", "__db"} <= set(form.fields)
    assert form.user_field.endswith("UsernameTextBox") and form.named(SUBMIT_BUTTON) is not None


def test_a_post_without_the_button_shows_the_form_again_and_checks_no_password(crm):
    with requests.Session() as session:
        answer = _sign_in(crm, session, button=False)
    page = parse_page(answer.text)
    assert page.forms[0].password_field and page.errors == []
    assert crm.accounts.summary()["attempts"] == 0


def test_a_post_without_a_rendered_view_state_is_an_error_page(crm):
    with requests.Session() as session:
        page = _to_sign_in_form(crm, session)
        (form,) = parse_page(page.text).forms
        fields = {**form.fields, "__VIEWSTATE": "forged", SUBMIT_BUTTON: "Sign In"}
        answer = _post(session, page, form, **fields)
    assert parse_page(answer.text).forms == [] and parse_page(answer.text).errors == [PROBLEM]


def test_each_sts_issues_a_one_time_token_and_the_crm_sets_its_session(crm):
    with requests.Session() as session:
        to_resource, form = _post_token(session, _sign_in(crm, session))
        assert form.name == "hiddenform" and set(form.fields) == {"wa", "wresult", "wctx"}
        assert form.action == f"{crm.resource_sts_url}/adfs/ls/"
        taken, second = _post_token(session, to_resource)
        assert second.action == f"{crm.base_url}/"
        assert taken.status_code == 302 and {"MSISAuth", "MSISAuth1"} <= set(taken.cookies.keys())
        assert session.get(f"{crm.service_root}/AccountSet", headers=JSON, timeout=5).status_code == 200
        again = requests.post(second.action, data=second.fields, allow_redirects=False, timeout=5)
    assert again.status_code == 200 and parse_page(again.text).errors == [PROBLEM]  # a token is good once
    assert crm.adfs.sign_ins == 1


def test_a_wrong_password_shows_the_form_again_with_the_error_label(crm):
    with requests.Session() as session:
        answer = _sign_in(crm, session, password="wrong")
    page = parse_page(answer.text)
    assert page.forms[0].password_field and page.errors == [WRONG_PASSWORD]
    assert crm.accounts.summary() == {"attempts": 1, "refused": 1, "locked": []}


def test_the_account_locks_after_the_threshold_and_then_refuses_the_right_password(crm):
    for _ in range(3):
        with requests.Session() as session:
            _sign_in(crm, session, password="wrong")
    with requests.Session() as session:
        answer = _sign_in(crm, session)
    assert parse_page(answer.text).errors == [WRONG_PASSWORD]  # AD FS 2.0 does not say "locked"
    assert crm.accounts.summary() == {"attempts": 4, "refused": 4, "locked": ["corp\\alice"]}


def test_a_lock_ends_after_its_duration_and_failures_outside_the_window_do_not_count(tmp_path):
    users = tmp_path / "users"
    users.write_text("CORP:alice:pw\n")
    now = [0.0]
    accounts = Accounts(str(users), threshold=2, window=60, duration=600, clock=lambda: now[0])
    assert not accounts.check("CORP\\alice", "x")
    now[0] = 61.0
    assert not accounts.check("alice@corp.example", "x") and not accounts.locked("CORP\\alice")
    assert not accounts.check("CORP\\alice", "x") and accounts.locked("CORP\\alice")
    assert not accounts.check("CORP\\alice", "pw")
    now[0] = 61.0 + 600
    assert accounts.check("CORP\\alice", "pw")


def test_without_a_known_home_realm_the_crm_s_sts_shows_the_home_realm_page(crm):
    with requests.Session() as session:
        start = _get(session, f"{crm.base_url}/")
        page = _get(session, start.headers["Location"])
        (form,) = parse_page(page.text).forms
        (select,) = form.of_kind("select")
        values = [value for value, _, _ in select.options]
        assert select.name == PROVIDERS_FIELD and crm.adfs.account_sts.identifier in values
        chosen = {PROVIDERS_FIELD: crm.adfs.account_sts.identifier}
        without_button = _post(session, page, form, **dict(form.submission(None, chosen)))
        with_button = _post(session, page, form, **dict(form.submission(form.named(PROVIDERS_BUTTON), chosen)))
    assert without_button.status_code == 200 and parse_page(without_button.text).forms[0].of_kind("select")
    assert with_button.status_code == 302 and with_button.headers["Location"].startswith(crm.adfs_url)


@pytest.mark.parametrize(("expiry", "status"), [("redirect", 302), ("form", 200)])
def test_an_ended_session_is_answered_as_configured(crm, expiry, status):
    crm.adfs.expiry = expiry
    response = requests.get(f"{crm.service_root}/AccountSet", headers=JSON, allow_redirects=False, timeout=5)
    assert response.status_code == status and "html" in response.headers["Content-Type"]
    if expiry == "form":
        form = parse_page(response.text).scripted
        assert form.action == f"{crm.resource_sts_url}/adfs/ls/" and form.fields["wa"] == "wsignin1.0"


def test_sessions_last_the_configured_time(crm):
    now = [0.0]
    crm.adfs.clock = lambda: now[0]
    try:
        crm.adfs._sessions["s" * 32] = now[0] + 60
        environ = {"HTTP_COOKIE": f"MSISAuth={'s' * 16}; MSISAuth1={'s' * 16}"}
        assert crm.adfs.live(environ)
        now[0] = 60.0
        assert not crm.adfs.live(environ)
    finally:
        crm.adfs.clock = time.monotonic


def test_the_stats_count_the_sign_in_attempts(crm):
    with requests.Session() as session:
        _sign_in(crm, session, password="wrong")
    stats = requests.get(f"{crm.base_url}/_emulator/stats", timeout=5).json()
    assert stats["sign_in_attempts"] == {"attempts": 1, "refused": 1, "locked": []}


def test_the_command_line_chooses_the_auth_the_sts_chain_and_the_lockout():
    assert parse_args([]).auth == "none"
    args = parse_args(
        ["--auth", "adfs", "--users", "u.txt", "--adfs-session-seconds", "5", "--adfs-expiry", "form"]
        + ["--adfs-port", "8002", "--resource-sts-port", "0", "--lockout-threshold", "3", "--lockout-window", "60"]
    )
    assert (args.adfs_users, args.ntlm_users, args.adfs_session_seconds, args.adfs_expiry) == (
        "u.txt",
        None,
        5,
        "form",
    )
    chain = (args.adfs_port, args.resource_sts_port, args.lockout_threshold, args.lockout_window)
    assert chain == (8002, 0, 3, 60)
    assert parse_args(["--auth", "adfs", "--users", "u.txt"]).resource_sts_port is None
    assert parse_args(["--ntlm-users", "n.txt"]).ntlm_users == "n.txt"
    with pytest.raises(SystemExit):
        parse_args(["--auth", "adfs"])
