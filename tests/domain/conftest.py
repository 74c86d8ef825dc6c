"""Fixtures of the domain tests: `world`, the system of record in either world (see `world`).

This conftest and the tests beside it never import the sync layer, so they run unchanged
after the CRM is retired (`make retire-check` runs them on a retired copy of the tree).
"""

import pytest

from .world import world_for


@pytest.fixture
def world(request):
    """The system of record: the CRM emulator while the sync layer exists, else the local database."""
    return world_for(request)
