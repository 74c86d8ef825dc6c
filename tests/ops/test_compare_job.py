"""The sync page's "Compare with the CRM" for a large entity: a background job whose progress shows."""
# ruff: noqa: F811 - the conflict tests' fixtures, imported, are parameters here

import datetime as dt
import re

import pytest

from migrator.cdms_migrator import get_migrator
from migrator.mirror.state import ComparisonRun
from migrator.ops import compare_job
from migrator.ops.comparison import compare
from organisation.models import Organisation
from tests.crm_records import seed_account
from tests.follow.celery_workers import wait_for
from tests.ops.test_conflicts import PAGE, change_locally, conflicted, person  # noqa: F401 - fixtures

ACCOUNTS = get_migrator(Organisation)


@pytest.fixture
def large(monkeypatch):
    """Every entity counts as too large to compare while the page is built."""
    monkeypatch.setattr("migrator.ops.sync_page.AUTO_COMPARE_ROWS", 0)


def test_a_comparison_reports_its_progress_after_each_page_of_keys(cdms):
    for i in range(120):
        seed_account(cdms, f"Org {i:03}")
    listed = []
    drift = compare(ACCOUNTS, progress=listed.append)
    assert listed == [50, 100, 120] and drift.crm_rows == 120


@pytest.mark.django_db(transaction=True)
def test_the_button_starts_a_background_comparison_and_the_page_then_shows_its_conflicts(
    client,
    conflicted,
    person,
    large,  # noqa: F811
):
    client.force_login(person)
    page = client.get(PAGE).content.decode()
    assert 'name="action" value="compare"' in page and conflicted["alpha"] not in page
    response = client.post(PAGE, {"entity": "Account", "action": "compare"})
    assert response.status_code == 302  # the request does not wait for the comparison
    wait_for(lambda: ComparisonRun.objects.filter(entity="Account", state="done").exists())
    run = ComparisonRun.objects.get(entity="Account")
    assert run.crm_rows_listed == 3
    assert sorted(run.local_newer) == sorted([conflicted["alpha"], conflicted["beta"]])
    page = client.get(PAGE).content.decode()
    assert f'data-key="{conflicted["alpha"]}"' in page
    assert re.search(r"Compared \d+ s ago: 3 CRM records listed.", page)
    client.post(PAGE, {"entity": "Account", "key": conflicted["alpha"], "action": "keep_crm"})
    page = client.get(PAGE).content.decode()
    assert f'data-key="{conflicted["alpha"]}"' not in page  # resolved since the comparison: not shown
    assert f'data-key="{conflicted["beta"]}"' in page


def test_a_running_comparison_shows_how_far_it_has_got_and_the_page_refreshes(client, conflicted, person, large):  # noqa: F811
    ComparisonRun.objects.create(entity="Account", expected_rows=300, crm_rows_listed=120)
    client.force_login(person)
    page = client.get(PAGE).content.decode()
    assert "Comparing Account with the CRM: 120 of about 300 CRM records listed (40 %)" in page
    assert 'http-equiv="refresh" content="5"' in page
    response = client.post(PAGE, {"entity": "Account", "action": "compare"})
    assert response.status_code == 302 and ComparisonRun.objects.count() == 1  # one live run per entity


def test_a_comparison_whose_process_ended_shows_as_interrupted_and_may_be_started_again(
    client,
    conflicted,
    person,
    large,  # noqa: F811
):
    run = ComparisonRun.objects.create(entity="Account", expected_rows=300, crm_rows_listed=50)
    stalled = run.updated - dt.timedelta(seconds=compare_job.STALLED_SECONDS + 1)
    ComparisonRun.objects.filter(pk=run.pk).update(updated=stalled)
    client.force_login(person)
    page = client.get(PAGE).content.decode()
    assert "stopped at 50 CRM records listed" in page and "Compare Account with the CRM again" in page
    assert 'http-equiv="refresh"' not in page


def test_a_failed_comparison_says_why(client, conflicted, person, large):  # noqa: F811
    ComparisonRun.objects.create(entity="Account", state="failed", error="CRM answered 503")
    client.force_login(person)
    page = client.get(PAGE).content.decode()
    assert "The comparison with the CRM failed: CRM answered 503" in page


@pytest.mark.django_db(transaction=True)
def test_a_comparison_the_crm_fails_is_recorded_as_failed(cdms):
    seed_account(cdms, "Acme")
    cdms.faults.add(status=503, count=50)
    run = compare_job.start(ACCOUNTS, wait=True)
    run.refresh_from_db()
    assert run.state == "failed" and "503" in run.error
