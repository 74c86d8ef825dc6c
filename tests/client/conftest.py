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
