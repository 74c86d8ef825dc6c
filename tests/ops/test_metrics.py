"""/metrics: values after known operations, multiprocess aggregation, and who may read it."""

import datetime as dt
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSConnectionError
from migrator import instruments
from migrator.connection import get_client
from migrator.exceptions import ObjectsNotInSyncError
from migrator.mirror.removal import remove_gone
from migrator.mirror.state import Watermark
from organisation.models import Organisation
from tests.crm_records import later, seed_account

ROOT = Path(__file__).resolve().parents[2]


def scrape(client, token):
    """The /metrics answer as {(name, labels): value}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_a_read_counts_its_requests_latencies_and_created_rows(cdms, metrics):
    for name in ("Alpha", "Beta", "Gamma"):
        seed_account(cdms, name)
    with count_requests() as counter:
        assert len(list(Organisation.objects.all())) == 3
    assert counter.count == 1
    assert metrics.delta("cdms_requests_total", method="GET", entity="Account", outcome="ok") == 1
    assert metrics.delta("cdms_request_duration_seconds_count", method="GET", entity="Account") == 1
    assert metrics.delta("cdms_rows_total", entity="Account", source="read", change="created") == 3
    assert metrics.delta("cdms_rows_total", entity="Account", source="read", change="refreshed") == 0


def test_a_second_read_refreshes_only_what_changed_in_the_crm(cdms, metrics):
    keys = [seed_account(cdms, name) for name in ("Alpha", "Beta")]
    list(Organisation.objects.all())
    cdms.store.update("Account", keys[0], {"Name": "Alpha Renamed"}, modified_on=later())
    list(Organisation.objects.all())
    assert metrics.delta("cdms_rows_total", entity="Account", source="read", change="created") == 2
    assert metrics.delta("cdms_rows_total", entity="Account", source="read", change="refreshed") == 1


def test_failed_requests_are_counted_by_outcome(cdms, metrics):
    cdms.faults.add(status=404, method="GET")
    with pytest.raises(Exception):  # noqa: B017 - the outcome is asserted below, not the type
        list(Organisation.objects.all())
    assert metrics.delta("cdms_requests_total", method="GET", entity="Account", outcome="4xx") == 1
    assert metrics.delta("cdms_requests_total", method="GET", entity="Account", outcome="ok") == 0


def test_writes_count_rows_created_refreshed_and_removed_by_the_write_source(cdms, metrics):
    org = Organisation.objects.create(name="Acme")
    org.city = "York"
    org.save()
    org.delete()
    assert metrics.delta("cdms_requests_total", method="POST", entity="Account", outcome="ok") == 1
    assert metrics.delta("cdms_requests_total", method="MERGE", entity="Account", outcome="ok") == 1
    assert metrics.delta("cdms_requests_total", method="DELETE", entity="Account", outcome="ok") == 1
    for change in ("created", "refreshed", "removed"):
        assert metrics.delta("cdms_rows_total", entity="Account", source="write", change=change) == 1


def test_rows_removed_are_counted_under_the_active_source(cdms, metrics):
    keys = [seed_account(cdms, name) for name in ("Alpha", "Beta")]
    list(Organisation.objects.all())
    with instruments.sync_source("sweep"):
        assert remove_gone(Organisation, keys) == 2
    assert metrics.delta("cdms_rows_total", entity="Account", source="sweep", change="removed") == 2
    assert metrics.delta("cdms_rows_total", entity="Account", source="read", change="removed") == 0


def test_a_local_row_newer_than_the_crm_counts_a_conflict(cdms, metrics):
    key = seed_account(cdms, "Alpha")
    list(Organisation.objects.all())
    row = Organisation.objects.skip_cdms().get(cdms_pk=key)
    row.name, row.modified = "Changed locally", later(3600)
    row.save(skip_cdms=True)
    with pytest.raises(ObjectsNotInSyncError):
        list(Organisation.objects.all())
    assert metrics.delta("cdms_conflicts_total", entity="Account") == 1


def test_an_unknown_source_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown sync source 'nightly'"):
        instruments.sync_source("nightly")


def test_follower_helpers_set_lag_rounds_and_strict_fallbacks(metrics):
    instruments.follower_round("Contact", 4.5)
    instruments.follower_round("Contact", 2.0)
    instruments.strict_fallback("Contact")
    assert metrics.delta("cdms_follower_rounds_total", entity="Contact") == 2
    assert metrics.value("cdms_follower_lag_seconds", entity="Contact") == 2.0
    assert metrics.delta("cdms_strict_fallbacks_total", entity="Contact") == 1


def test_watermark_ages_are_read_from_the_database_at_scrape_time(client, staff, db):
    now = timezone.now()
    ago = lambda **kw: now - dt.timedelta(**kw)  # noqa: E731
    Watermark.objects.create(entity="Account", changes_until=ago(seconds=120), deletions_until=ago(hours=1))
    Watermark.objects.create(entity="Contact", changes_until=ago(seconds=30))
    samples = scrape(client, staff[1])
    age = {labels: value for (name, labels), value in samples.items() if name == "cdms_watermark_age_seconds"}
    assert set(age) == {
        (("entity", "Account"), ("watermark", "changes")),
        (("entity", "Account"), ("watermark", "deletions")),
        (("entity", "Contact"), ("watermark", "changes")),
    }
    assert 120 <= age[(("entity", "Account"), ("watermark", "changes"))] < 150
    assert 3600 <= age[(("entity", "Account"), ("watermark", "deletions"))] < 3630
    assert 30 <= age[(("entity", "Contact"), ("watermark", "changes"))] < 60


def test_metrics_answer_after_a_read_shows_its_requests(client, cdms, staff):
    seed_account(cdms, "Alpha")
    before = scrape(client, staff[1])
    list(Organisation.objects.all())
    after = scrape(client, staff[1])
    key = ("cdms_requests_total", (("entity", "Account"), ("method", "GET"), ("outcome", "ok")))
    assert after[key] - before.get(key, 0.0) == 1


WORKER = """
import sys
from cdms_api import counting
from cdms_api.client import CDMSClient
from migrator.instruments import observe_request
counting.add_observer(observe_request)
with CDMSClient(sys.argv[1], timeout=5) as client:
    for _ in client.list("Account"):
        pass
"""


def test_several_processes_add_up_in_multiprocess_mode(client, cdms, staff, tmp_path, monkeypatch):
    seed_account(cdms, "Alpha")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER, cdms.base_url], env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(client, staff[1])
    assert samples[("cdms_requests_total", (("entity", "Account"), ("method", "GET"), ("outcome", "ok")))] == 2
    assert samples[("cdms_request_duration_seconds_count", (("entity", "Account"), ("method", "GET")))] == 2


def test_anonymous_users_are_refused_with_401(client, db):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert b"cdms_" not in response.content


def test_a_wrong_token_is_refused_with_401(client, db):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_users_who_are_not_staff_are_refused_with_403(client, member):
    user, token = member
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {token}").status_code == 403
    client.force_login(user)
    assert client.get("/metrics").status_code == 403


def test_a_staff_session_may_read_the_metrics(client, staff):
    client.force_login(staff[0])
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"# TYPE cdms_requests_total counter" in response.content


def test_an_import_counts_its_rows_under_the_import_source(cdms, metrics):
    for name in ("Alpha", "Beta", "Gamma"):
        seed_account(cdms, name)
    call_command("cdms_import", "--entity", "Account", "--no-progress", stdout=io.StringIO())
    assert metrics.delta("cdms_rows_total", entity="Account", source="import", change="created") == 3
    assert metrics.delta("cdms_rows_total", entity="Account", source="read", change="created") == 0


def test_a_crm_that_does_not_answer_is_counted_as_no_answer(db, settings, metrics):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.CDMS_BASE_URL = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(CDMSConnectionError):
        get_client().request("GET", "AccountSet", idempotent=False)
    assert metrics.delta("cdms_requests_total", method="GET", entity="Account", outcome="no_answer") == 1


def test_latency_falls_in_the_bucket_of_the_crms_delay(cdms, metrics):
    cdms.latency_ms = 60
    list(Organisation.objects.all())
    bucket = lambda le: metrics.delta(  # noqa: E731
        "cdms_request_duration_seconds_bucket", method="GET", entity="Account", le=le
    )
    assert (bucket("0.05"), bucket("0.1"), bucket("+Inf")) == (0, 1, 1)
    assert metrics.delta("cdms_request_duration_seconds_sum", method="GET", entity="Account") >= 0.06
