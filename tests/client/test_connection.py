"""The per-thread client built from the CDMS_* settings, rebuilt when they change."""

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from requests_ntlm import HttpNtlmAuth

from cdms_api.adfs import ADFSAuth
from migrator.conf import cdms_settings
from migrator.connection import get_client
from organisation.models import Organisation
from tests.client.conftest import PASSWORD, USERNAME, adfs_url


def test_one_client_per_thread_reused_within_it():
    client = get_client()
    assert get_client() is client
    others = []
    thread = threading.Thread(target=lambda: others.append(get_client()))
    thread.start()
    thread.join()
    assert others[0] is not client and isinstance(others[0], type(client))


@override_settings(CDMS_BASE_URL="http://crm.example:8080/", CDMS_TIMEOUT=12.0)
def test_built_from_settings_with_capped_connect_timeout():
    client = get_client()
    assert client.service_root == "http://crm.example:8080/XRMServices/2011/OrganizationData.svc"
    assert client.timeout == (5.0, 12.0) and client.auth is None
    with override_settings(CDMS_TIMEOUT=2):
        assert get_client().timeout == (2.0, 2.0)


def test_rebuilt_when_a_cdms_setting_changes_and_back():
    before = get_client()
    with override_settings(CDMS_AUTH="ntlm", CDMS_USERNAME="DOM\\jo", CDMS_PASSWORD="pw"):
        during = get_client()
        assert during is not before
        assert isinstance(during.auth, HttpNtlmAuth) and during.auth.username == "DOM\\jo"
    after = get_client()
    assert after is not during and after.auth is None


def test_other_threads_see_the_change_too():
    clients = {}

    def worker(name, ready, go):
        clients[name + "-before"] = get_client()
        ready.set()
        go.wait()
        clients[name + "-after"] = get_client()

    ready, go = threading.Event(), threading.Event()
    thread = threading.Thread(target=worker, args=("t", ready, go))
    thread.start()
    ready.wait()
    with override_settings(CDMS_BASE_URL="http://elsewhere.example"):
        go.set()
        thread.join()
        assert clients["t-after"].base_url == "http://elsewhere.example"
    assert clients["t-before"].base_url != "http://elsewhere.example"


def test_unrelated_settings_keep_the_client():
    client = get_client()
    with override_settings(TIME_ZONE="UTC"):
        assert get_client() is client


def test_unknown_auth_kind_is_an_error():
    with override_settings(CDMS_AUTH="kerberos"), pytest.raises(ImproperlyConfigured, match="CDMS_AUTH"):
        get_client()


def test_adfs_settings_build_a_client_that_signs_in_through_ad_fs(settings, db):
    settings.CDMS_AUTH, settings.CDMS_USERNAME, settings.CDMS_PASSWORD = "adfs", USERNAME, PASSWORD
    settings.CDMS_ADFS_URL = "https://sts.example.org/adfs/services/trust/"
    client = get_client()
    assert (
        isinstance(client.auth, ADFSAuth) and client.auth.adfs_url == "https://sts.example.org/adfs/services/trust"
    )
    assert PASSWORD not in repr(client.auth)


# Transactional: the write-intent and refusal records use their own connection, which on SQLite
# would wait for the lock a test transaction holds.
@pytest.mark.django_db(transaction=True)
def test_adfs_settings_end_to_end_through_the_sync_layer(adfs_crm, settings):
    settings.CDMS_BASE_URL, settings.CDMS_AUTH = adfs_crm.base_url, "adfs"
    settings.CDMS_USERNAME, settings.CDMS_PASSWORD, settings.CDMS_ADFS_URL = USERNAME, PASSWORD, adfs_url(adfs_crm)
    org = Organisation.objects.create(name="Acme")
    adfs_crm.adfs.expire_sessions()
    assert [o.name for o in Organisation.objects.all()] == ["Acme"]
    assert adfs_crm.store.get("Account", org.cdms_pk)["Name"] == "Acme" and adfs_crm.adfs.sign_ins == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"CDMS_AUTH": "adfs", "CDMS_USERNAME": "D\\u", "CDMS_PASSWORD": "p"}, "needs CDMS_ADFS_URL"),
        ({"CDMS_AUTH": "adfs", "CDMS_ADFS_URL": "https://sts.example/"}, "needs CDMS_USERNAME"),
        ({"CDMS_ADFS_URL": "sts.example"}, "CDMS_ADFS_URL"),
    ],
)
def test_incomplete_adfs_settings_are_refused_by_the_check(options, message):
    with override_settings(**options), pytest.raises(ImproperlyConfigured, match=message):
        cdms_settings.check()
