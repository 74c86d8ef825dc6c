"""What the follower, the sweeps and bounded reads report in /metrics."""

import datetime as dt

from django.utils import timezone
from prometheus_client import REGISTRY

from migrator.mirror.follower import follow
from migrator.mirror.state import Watermark
from migrator.mirror.sweep import sweep
from organisation.models import Organisation
from tests.crm_records import seed_account


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_rows_are_counted_by_the_follower_and_the_sweep_as_their_sources(cdms):
    keys = [seed_account(cdms, f"Org {i}") for i in range(3)]
    created = sample("cdms_rows_total", entity="Account", source="follower", change="created")
    rounds = sample("cdms_follower_rounds_total", entity="Account")
    follow(Organisation, "test")
    assert sample("cdms_rows_total", entity="Account", source="follower", change="created") == created + 3
    assert sample("cdms_follower_rounds_total", entity="Account") == rounds + 1
    assert 0 <= sample("cdms_follower_lag_seconds", entity="Account") < 60

    cdms.store.delete("Account", keys[0])
    removed = sample("cdms_rows_total", entity="Account", source="sweep", change="removed")
    sweep(Organisation, "test")
    assert sample("cdms_rows_total", entity="Account", source="sweep", change="removed") == removed + 1


def test_a_bounded_read_that_falls_back_to_strict_is_counted(cdms, settings):
    settings.CDMS_MAX_STALENESS = 5
    seed_account(cdms, "Acme")
    follow(Organisation, "test")
    sweep(Organisation, "test")
    Watermark.objects.filter(entity="Account").update(changes_until=timezone.now() - dt.timedelta(minutes=1))
    before = sample("cdms_strict_fallbacks_total", entity="Account")
    assert Organisation.objects.count() == 1
    assert sample("cdms_strict_fallbacks_total", entity="Account") == before + 1
