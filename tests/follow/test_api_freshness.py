"""The API answers lists from the mirror within the bound and says how fresh each answer is."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from cdms_api.counting import count_requests
from migrator.mirror.state import Watermark
from migrator.read.middleware import FRESHNESS_HEADER
from tests.crm_records import seed_account
from tests.follow.test_follower import round_of
from tests.follow.vouches import age_vouches


@pytest.fixture
def api(client, db):
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw"))
    return client


@pytest.fixture
def bounded(cdms, settings):
    settings.CDMS_MAX_STALENESS = 30
    for i in range(60):
        seed_account(cdms, f"Org {i:02}", Address1_City="Leeds" if i % 2 else "York")
    round_of()
    age_vouches()  # the round vouched for every row: make them rows the CRM showed long ago


def test_a_bounded_list_page_costs_one_crm_request_and_names_its_watermark(api, bounded):
    mark = Watermark.objects.get(entity="Account").changes_until
    with count_requests() as counter:
        response = api.get("/api/v1/organisations/", {"city": "Leeds", "ordering": "name"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 30 and len(body["results"]) >= 1
    assert counter.count == 1  # the stamps of the page's 25 rows, all unchanged; count() from the mirror
    stated = dt.datetime.fromisoformat(response[FRESHNESS_HEADER].replace("Z", "+00:00"))
    assert abs(stated - mark) < dt.timedelta(seconds=1)


def test_a_list_read_strictly_says_so(api, bounded):
    Watermark.objects.filter(entity="Account").update(changes_until=timezone.now() - dt.timedelta(hours=1))
    response = api.get("/api/v1/organisations/")
    assert response.status_code == 200 and response[FRESHNESS_HEADER] == "strict"


def test_the_admin_changelist_reads_from_the_mirror_within_the_bound(api, bounded):
    with count_requests() as counter:
        response = api.get("/admin/organisation/organisation/")
    assert response.status_code == 200 and b"Org 0" in response.content
    assert counter.count == 1  # the stamps of the 30 rows shown, all unchanged
