"""Refused CRM credentials through the sync layer: one attempt for the whole deployment, then a 503
naming the reason until the back-off passes or an operator says they are fixed; `/readyz`, the
sync page, `cdms_check`, `cdms_credentials` and `/metrics` say so.

The refusal lives in the database, read and written on connections of its own, so these tests
use `transactional_db`: what one "process" (a guard with its own store) records, another sees.
"""

import datetime as dt
import threading

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from cdms_api.counting import count_requests
from cdms_api.emulator import Emulator
from cdms_api.exceptions import CDMSCredentialsRefusedError
from cdms_api.refusals import CredentialGuard
from migrator.connection import get_client
from migrator.credentials import CredentialRefusal, DatabaseRefusals, fingerprint, mark_fixed, refusal_in_force
from organisation.models import Organisation
from tests.ops.test_metrics import scrape

USER, PASSWORD = "CORP\\svc-datahub", "Right-pa55"
PAGE = "/admin/migrator/syncstatus/"


@pytest.fixture(scope="module")
def sts_crm(tmp_path_factory):
    """An internet-facing CRM behind its own STS and the organisation's AD FS, which locks after 3 failures."""
    users = tmp_path_factory.mktemp("credentials") / "users.txt"
    users.write_text("CORP:svc-datahub:Right-pa55\n")
    emu = Emulator(adfs_users=str(users), resource_sts=True, lockout_threshold=3).start()
    yield emu
    emu.stop()


@pytest.fixture
def claims(sts_crm, settings, transactional_db):
    """Django's CRM settings pointing at the two-STS emulator with a wrong password."""
    sts_crm.reset()
    sts_crm.adfs.expire_sessions()
    settings.CDMS_BASE_URL, settings.CDMS_AUTH, settings.CDMS_TIMEOUT = sts_crm.base_url, "adfs", 2.0
    settings.CDMS_USERNAME, settings.CDMS_PASSWORD = USER, "wrong-password"
    settings.CDMS_ADFS_URL = f"{sts_crm.adfs_url}/adfs/ls/"
    settings.CDMS_ADFS_WHR = sts_crm.adfs.account_sts.identifier
    settings.CDMS_MAX_STALENESS = None
    return sts_crm


def attempts(crm):
    return crm.accounts.summary()["attempts"]


def _refuse():
    with pytest.raises(CDMSCredentialsRefusedError):
        list(get_client().list("Account"))


def test_a_refusal_is_recorded_once_and_every_thread_then_fails_at_once(claims):
    _refuse()
    failures = []

    def work():
        for _ in range(5):
            try:
                list(get_client().list("Account"))
            except CDMSCredentialsRefusedError as exc:
                failures.append(exc)

    with count_requests() as counter:
        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(failures) == 30 and counter.count == 0
    assert claims.accounts.summary() == {"attempts": 1, "refused": 1, "locked": []}
    row = CredentialRefusal.objects.get()
    assert row.fingerprint == fingerprint() and "The user name or password is incorrect." in row.reason
    assert "wrong-password" not in str(vars(row)) and "svc-datahub" not in str(vars(row))


def test_another_process_sees_the_refusal_and_after_the_back_off_one_process_tries(claims):
    now = [dt.datetime(2016, 3, 1, 9, 0, tzinfo=dt.UTC)]
    first, second = (
        CredentialGuard(DatabaseRefusals(fingerprint(), claims.base_url, "adfs"), backoff=60, clock=lambda: now[0])
        for _ in range(2)
    )
    first.refused("AD FS refused the sign-in")
    with pytest.raises(CDMSCredentialsRefusedError, match="AD FS refused the sign-in"):
        second.check()
    now[0] += dt.timedelta(seconds=61)
    second.before_sending()  # the back-off passed: this process wins the one try
    with pytest.raises(CDMSCredentialsRefusedError):
        first.before_sending()  # and the other keeps waiting while it runs
    second.accepted()  # it worked: the record is gone for everyone
    assert CredentialRefusal.objects.count() == 0


def test_api_requests_answer_503_naming_the_refusal_without_reaching_the_crm(claims, api):
    first = api.get("/api/v1/organisations/")
    with count_requests() as counter:
        later = api.get("/api/v1/organisations/")
    assert (first.status_code, later.status_code, counter.count) == (503, 503, 0)
    body = later.json()
    assert body["code"] == "cdms_credentials_refused"
    assert (
        "The user name or password is incorrect." in body["detail"]
        and "cdms_credentials --fixed" in body["detail"]
    )
    assert later["Retry-After"]
    assert attempts(claims) == 1


def test_a_write_while_refused_is_refused_and_nothing_is_stored(claims):
    _refuse()
    with pytest.raises(CDMSCredentialsRefusedError):
        Organisation.objects.create(name="Acme")
    assert Organisation.objects.skip_cdms().count() == 0 and claims.store.count("Account") == 0
    assert attempts(claims) == 1


def test_readyz_is_not_ready_and_names_the_refusal(claims, client):
    _refuse()
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and "credentials" in body["failed"]
    assert "The user name or password is incorrect." in body["checks"]["credentials"]["detail"]
    assert attempts(claims) == 1


def test_the_metric_shows_the_refusal(claims):
    staff = User.objects.create_user("ops", password="ops-pass-123", is_staff=True)
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=staff).key
    assert scrape(APIClient(), token)[("cdms_credentials_refused", ())] == 0.0
    _refuse()
    samples = scrape(APIClient(), token)
    assert samples[("cdms_credentials_refused", ())] == 1.0
    assert 800 < samples[("cdms_credentials_retry_seconds", ())] <= 900


def test_cdms_check_and_cdms_credentials_name_the_refusal_and_fixed_lifts_it(claims, capsys, monkeypatch):
    monkeypatch.setattr("cdms_api.refusals.RECHECK_SECONDS", 0.0)  # this process notices "fixed" at once
    _refuse()
    with pytest.raises(CommandError, match="1 check"):
        call_command("cdms_check", "--no-probe")
    assert "credentials" in capsys.readouterr().out
    call_command("cdms_credentials")
    assert "The user name or password is incorrect." in capsys.readouterr().out
    call_command("cdms_credentials", "--fixed")  # say, the account's password was reset to the configured one
    assert "Forgot 1 refusal" in capsys.readouterr().out
    assert refusal_in_force() is None
    claims.accounts.users[("corp", "svc-datahub")] = "wrong-password"
    try:
        with count_requests():
            records = list(get_client().list("Account"))
    finally:
        claims.accounts.users[("corp", "svc-datahub")] = PASSWORD
    assert records == [[]] and claims.accounts.summary() == {"attempts": 2, "refused": 1, "locked": []}


def test_the_sync_page_shows_the_refusal_and_its_button_lifts_it(claims, client):
    _refuse()
    admin = User.objects.create_superuser("admin", password="admin-pass-123")
    client.force_login(admin)
    page = client.get(PAGE).content.decode()
    assert 'id="credentials-refused"' in page and "The user name or password is incorrect." in page
    response = client.post(PAGE, {"action": "credentials-fixed"})
    assert response.status_code == 302 and CredentialRefusal.objects.count() == 0
    assert 'id="credentials-refused"' not in client.get(PAGE).content.decode()


def test_the_sync_page_button_needs_change_permission(claims, client):
    _refuse()
    viewer = User.objects.create_user("viewer", password="viewer-pass-123", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_syncstatus"))
    client.force_login(viewer)
    assert client.post(PAGE, {"action": "credentials-fixed"}).status_code == 403
    assert CredentialRefusal.objects.count() == 1


def test_a_changed_password_setting_is_not_held_back_by_the_old_refusal(claims, settings):
    _refuse()
    settings.CDMS_PASSWORD = PASSWORD
    assert list(get_client().list("Account")) == [[]]
    assert mark_fixed() == 1  # the old credentials' record is still there, for the operator


def test_the_sign_in_settings_are_parsed_and_bad_ones_named(settings):
    from django.core.exceptions import ImproperlyConfigured

    from migrator.conf import cdms_settings
    from migrator.connection import build_auth

    settings.CDMS_AUTH, settings.CDMS_USERNAME, settings.CDMS_PASSWORD = "adfs", USER, PASSWORD
    settings.CDMS_ADFS_URL = "https://sts.example.org/adfs/ls/"
    settings.CDMS_ADFS_WHR = "http://sts.example.org/adfs/services/trust"
    settings.CDMS_ADFS_STS_URLS = "https://crm-sts.example.org/adfs/ls/, https://third.example.org"
    settings.CDMS_CREDENTIALS_BACKOFF = "60"
    auth = build_auth()
    assert auth.whr == "http://sts.example.org/adfs/services/trust"
    assert auth.sts_urls == ("https://crm-sts.example.org/adfs/ls", "https://third.example.org")
    assert auth.guard.backoff == 60.0 and "cdms_credentials --fixed" in auth.guard.hint
    settings.CDMS_ADFS_STS_URLS = "sts-without-scheme"
    with pytest.raises(ImproperlyConfigured, match="CDMS_ADFS_STS_URLS"):
        cdms_settings.check()
    settings.CDMS_ADFS_STS_URLS, settings.CDMS_CREDENTIALS_BACKOFF = "", "0"
    with pytest.raises(ImproperlyConfigured, match="CDMS_CREDENTIALS_BACKOFF"):
        cdms_settings.check()
