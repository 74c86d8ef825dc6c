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
