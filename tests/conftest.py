"""Shared fixtures: one CRM 2011 emulator per test session, reset for each test that uses `crm`."""

import pytest

from cdms_api.emulator import Emulator


@pytest.fixture(scope="session")
def emulator():
    """A started in-process CRM 2011 emulator (one per test session)."""
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
    """The emulator, empty, with Django's CRM settings pointing at it."""
    settings.CDMS_BASE_URL = crm.base_url
    settings.CDMS_TIMEOUT = 2.0
    return crm
