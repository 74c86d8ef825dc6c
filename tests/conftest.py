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
