"""Fixtures of the typed-entity tests: the test-only mappings registered, and a CRM serving their entities."""

from pathlib import Path

import pytest

from .registry import mapped

EDMX = Path(__file__).with_name("crm_types.edmx")


@pytest.fixture
def typed(db):
    """The test-only app's mappings registered (widgets, visits, the read-only widget list)."""
    with mapped():
        yield


@pytest.fixture(scope="session")
def typed_emulator():
    """An emulator serving the 2016 CDMS's entities and those of `crm_types.edmx` (one per test session)."""
    from cdms_api.emulator import Emulator
    from cdms_api.emulator.edmx import SHIPPED

    emulator = Emulator(metadata=[SHIPPED, EDMX]).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def typed_crm(typed_emulator, typed, settings):
    """That emulator, empty, with the CRM settings pointing at it and the test app mapped."""
    from migrator.mirror import journal

    typed_emulator.reset()
    # As with `cdms`: the intents an earlier test's rolled-back writes left must not reach this
    # test's follower rounds.
    journal.clear()
    settings.CDMS_BASE_URL = typed_emulator.base_url
    settings.CDMS_TIMEOUT = 10.0  # as `cdms`: long enough for a loaded machine
    yield typed_emulator
    typed_emulator.faults.clear()
