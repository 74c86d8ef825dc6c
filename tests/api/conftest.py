"""Fixtures for the API tests: Django pointed at a fresh emulator, and users with model permissions."""

import pytest

from .seeding import make_user, token_client

ALL_PERMS = [
    f"{verb}_{model}" for verb in ("view", "add", "change", "delete") for model in ("organisation", "contact")
]


@pytest.fixture
def editor(db):
    """A user who may view, add, change and delete organisations and contacts."""
    return make_user("editor", *ALL_PERMS)


@pytest.fixture
def api(editor):
    """An API client signed in (by token) as `editor`."""
    return token_client(editor)
