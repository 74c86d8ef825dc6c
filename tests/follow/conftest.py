"""Fixtures of the follower tests: each test sees the sync layer's rate-limited warnings afresh."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_warnings():
    from migrator.read import gate

    gate.forget_warnings()
