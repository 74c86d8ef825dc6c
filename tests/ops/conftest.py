"""Fixtures for the operations tests: metric deltas, and users who may or may not read /metrics."""

import pytest
from django.contrib.auth.models import User
from prometheus_client import REGISTRY
from rest_framework.authtoken.models import Token


class Metrics:
    """Metric samples of this process, read as differences from when the fixture was made."""

    def __init__(self):
        self.start = self._all()

    @staticmethod
    def _all():
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in REGISTRY.collect()
            for sample in family.samples
        }

    def delta(self, name, **labels):
        """How much the sample `name{labels}` grew since the fixture was made."""
        key = (name, tuple(sorted(labels.items())))
        return self._all().get(key, 0.0) - self.start.get(key, 0.0)

    def value(self, name, **labels):
        """The sample's current value (None if absent)."""
        return REGISTRY.get_sample_value(name, labels)


@pytest.fixture
def metrics():
    """Metric deltas from now on."""
    return Metrics()


@pytest.fixture
def staff(db):
    """A staff user (no other permission) and their API token."""
    user = User.objects.create_user("ops", password="ops-pass-123", is_staff=True)
    return user, Token.objects.create(user=user).key


@pytest.fixture
def member(db):
    """A signed-up user who is not staff, and their API token."""
    user = User.objects.create_user("member", password="member-pass-123")
    return user, Token.objects.create(user=user).key
