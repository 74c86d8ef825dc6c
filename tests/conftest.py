"""Shared fixtures: API users, and one CRM 2011 emulator per test session, reset for each test that uses `crm`.

Nothing here imports the sync layer at module level, so the domain tests (tests/domain/)
still load once the CRM is retired and `cdms_api` is deleted.
"""

from pathlib import Path

import pytest

from tests.domain.users import make_user, token_client

MODELS = ["organisation", "contact", "interaction"]
ALL_PERMS = [f"{verb}_{model}" for verb in ("view", "add", "change", "delete") for model in MODELS]
# The reference lists, teams and advisers are read-only: viewing them is all there is.
LIST_MODELS = [
    "sector", "country", "ukregion", "businesstype", "employeerange", "turnoverrange", "title",
    "contactrole", "interactiontype", "service", "servicedeliverystatus", "team", "adviser",
]  # fmt: skip
ALL_PERMS += [f"view_{model}" for model in LIST_MODELS]


@pytest.fixture(scope="session")
def emulator():
    """A started in-process CRM 2011 emulator (one per test session)."""
    from cdms_api.emulator import Emulator

    emu = Emulator().start()
    yield emu
    emu.stop()


@pytest.fixture
def crm(emulator):
    """The session emulator, emptied before the test; faults cleared and latency zeroed after it."""
    emulator.reset()
    yield emulator
    emulator.faults.clear()
    emulator.latency_ms = 0


@pytest.fixture
def cdms(crm, settings, db):
    """The emulator, empty, with Django's CRM settings pointing at it, and no write intents left."""
    from migrator.mirror import journal

    settings.CDMS_BASE_URL = crm.base_url
    # Long enough for a loaded machine (two suites side by side); tests of timeouts set their own.
    settings.CDMS_TIMEOUT = 10.0
    # A test's transaction is rolled back, so the intents its writes took come back: none may
    # reach the next test's follower rounds.
    journal.clear()
    return crm


@pytest.fixture
def editor(db):
    """A user who may view, add, change and delete organisations, contacts and interactions, and view the lists."""
    return make_user("editor", *ALL_PERMS)


@pytest.fixture
def api(editor):
    """An API client signed in (by token) as `editor`."""
    return token_client(editor)


def pytest_unconfigure(config):
    """Remove the SQLite journal of write intents kept beside the test database (Django drops the database)."""
    try:
        from django.conf import settings

        name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    except Exception:  # Django was never configured: nothing was written
        return
    if name and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        Path(f"{name}.intents").unlink(missing_ok=True)
