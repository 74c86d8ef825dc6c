"""Clients for the client tests: a patient one, a fault-test one with tiny timeouts, and NTLM."""

import pytest

from cdms_api.auth import make_auth
from cdms_api.client import CDMSClient
from cdms_api.emulator import Emulator

USERNAME = "TESTDOM\\svc-datahub"
PASSWORD = "Pa55-w0rd-xyzzy"


@pytest.fixture
def crm_client(crm):
    """A client of the shared emulator with the default retry policy but short waits."""
    with CDMSClient(crm.base_url, timeout=5.0, backoff=0.01, max_retry_seconds=5.0) as client:
        yield client


@pytest.fixture
def fast_client(crm):
    """A client for fault tests: 0.5 s timeouts, two retries, millisecond backoff."""
    with CDMSClient(crm.base_url, timeout=0.5, max_retries=2, backoff=0.005, max_retry_seconds=5.0) as client:
        yield client


@pytest.fixture(scope="session")
def ntlm_emulator(tmp_path_factory):
    """A second emulator that demands NTLM, with one known user."""
    domain, user = USERNAME.split("\\")
    users = tmp_path_factory.mktemp("ntlm") / "users.txt"
    users.write_text(f"{domain}:{user}:{PASSWORD}\n")
    emulator = Emulator(ntlm_users=str(users)).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def ntlm_crm(ntlm_emulator):
    """The NTLM emulator, reset before the test and without faults after it."""
    ntlm_emulator.reset()
    yield ntlm_emulator
    ntlm_emulator.faults.clear()


def ntlm_client(emulator, password=PASSWORD, **options):
    """A client of `emulator` authenticating as the test user with `password`."""
    options = {"timeout": 0.5, "max_retries": 2, "backoff": 0.005, **options}
    return CDMSClient(emulator.base_url, auth=make_auth("ntlm", USERNAME, password), **options)


@pytest.fixture(scope="session")
def adfs_emulator(tmp_path_factory):
    """A third emulator: an internet-facing CRM whose sessions come from its AD FS sign-in."""
    domain, user = USERNAME.split("\\")
    users = tmp_path_factory.mktemp("adfs") / "users.txt"
    users.write_text(f"{domain}:{user}:{PASSWORD}\n")
    emulator = Emulator(adfs_users=str(users)).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def two_sts_emulator(tmp_path_factory):
    """A fourth emulator: an internet-facing CRM trusting its own STS, which federates to the AD FS."""
    domain, user = USERNAME.split("\\")
    users = tmp_path_factory.mktemp("two-sts") / "users.txt"
    users.write_text(f"{domain}:{user}:{PASSWORD}\n")
    emulator = Emulator(adfs_users=str(users), resource_sts=True).start()
    yield emulator
    emulator.stop()


def _fresh(emulator):
    emulator.reset()
    adfs = emulator.adfs
    adfs.expire_sessions()
    adfs.session_seconds, adfs.expiry, adfs.sign_ins = 8 * 3600, "redirect", 0
    return emulator


@pytest.fixture
def adfs_crm(adfs_emulator):
    """The AD FS emulator, reset, with its sessions ended, long-lived and redirecting when they end."""
    yield _fresh(adfs_emulator)
    adfs_emulator.faults.clear()


@pytest.fixture
def two_sts_crm(two_sts_emulator):
    """The two-STS emulator, reset like `adfs_crm`."""
    yield _fresh(two_sts_emulator)
    two_sts_emulator.faults.clear()


def adfs_url(emulator):
    """The sign-in URL of an emulator's AD FS (it plays the AD FS on a port of its own)."""
    return f"{emulator.adfs_url}/adfs/ls/"


def adfs_whr(emulator):
    """The identifier of an emulator's AD FS, as the home realm (`whr`) names it."""
    return emulator.adfs.account_sts.identifier


def adfs_client(emulator, password=PASSWORD, **options):
    """A client of `emulator` signing in through its AD FS as the test user with `password`."""
    options = {"timeout": 2.0, "max_retries": 2, "backoff": 0.005, **options}
    auth = make_auth("adfs", USERNAME, password, adfs_url=adfs_url(emulator), whr=adfs_whr(emulator))
    return CDMSClient(emulator.base_url, auth=auth, **options)
