"""Rows the CRM vouched for within a read's bound are not checked again; older ones always are.

30 accounts mirrored by one follower round, reads bounded at 60 s. A vouch is the moment a CRM
answer last showed a record; the tests move vouches back in time instead of waiting.
"""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cdms_api.counting import count_requests
from core import paging
from migrator.mirror import vouching
from migrator.mirror.state import Watermark
from migrator.mirror.vouching import Vouch
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact
from tests.follow.test_follower import round_of
from tests.follow.vouches import age_vouches

LIST = "/api/v1/organisations/"


@pytest.fixture
def mirrored(cdms, settings):
    settings.CDMS_MAX_STALENESS = 60
    keys = [seed_account(cdms, f"Org {i:02}", NumberOfEmployees=i) for i in range(60)]
    round_of()
    return keys


@pytest.fixture
def api(client, db):
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw"))
    return client


def test_rows_the_follower_applied_within_the_bound_cost_no_request(mirrored, api):
    with count_requests() as counter:
        response = api.get(LIST, {"ordering": "number_of_employees"})
    assert [row["number_of_employees"] for row in response.json()["results"]] == list(range(25))
    assert counter.count == 0


def test_a_first_view_costs_one_request_per_batch_of_keys_and_a_repeat_view_none(mirrored, api):
    age_vouches()
    with count_requests() as first:
        assert api.get(LIST, {"page_size": 50}).status_code == 200
    assert first.count == 2  # the stamps of 50 rows: 29 keys a request beside the stamps' $select
    with count_requests() as repeat, CaptureQueriesContext(connection) as statements:
        response = api.get(LIST, {"page_size": 50})
    assert len(response.json()["results"]) == 50
    assert repeat.count == 0
    # Session and user, the watermarks (count, then page), the count, the page, its unvouched rows.
    assert len(statements) == 7


def test_a_row_checked_by_key_is_vouched_for_at_the_moment_before_its_request(mirrored):
    age_vouches()
    before = timezone.now()
    list(Organisation.objects.order_by("number_of_employees")[:5])
    fresh = set(Vouch.objects.filter(at__gte=before).values_list("cdms_pk", flat=True))
    assert fresh == set(mirrored[:5])  # vouched afresh by the check, and only those


def test_a_row_deleted_in_the_crm_more_than_the_bound_ago_is_never_shown(mirrored, cdms):
    list(Organisation.objects.order_by("number_of_employees")[:5])
    cdms.store.delete("Account", mirrored[2])
    # Within the bound of its vouch, the deletion may not be seen yet: it is younger than S.
    within = list(Organisation.objects.order_by("number_of_employees")[:5])
    assert [r.number_of_employees for r in within] == [0, 1, 2, 3, 4]
    # Once the vouch is older than S, the deletion is older than S too: the row is checked.
    age_vouches(61, cdms_pk=mirrored[2])
    with count_requests() as counter:
        rows = list(Organisation.objects.order_by("number_of_employees")[:5])
    assert [r.number_of_employees for r in rows] == [0, 1, 3, 4, 5]
    assert counter.count == 1  # the stale row (gone); the row that moved in was vouched for
    assert not Organisation.objects.skip_cdms().filter(cdms_pk=mirrored[2]).exists()


def test_a_smaller_bound_checks_rows_a_larger_one_accepts(mirrored):
    age_vouches(30)
    with count_requests() as loose:
        list(Organisation.objects.max_staleness(60).order_by("number_of_employees")[:5])
    with count_requests() as tight:
        list(Organisation.objects.max_staleness(10).order_by("number_of_employees")[:5])
    assert (loose.count, tight.count) == (0, 1)


def test_a_strict_read_vouches_for_what_it_fetched(mirrored, settings):
    age_vouches()
    list(Organisation.objects.strict().filter(number_of_employees__lt=10))
    with count_requests() as counter:
        rows = list(Organisation.objects.filter(number_of_employees__lt=10))
    assert len(rows) == 10 and counter.count == 0


def test_a_write_through_the_crm_vouches_for_its_row(mirrored):
    age_vouches()
    created = Organisation.objects.create(name="Made here", number_of_employees=500)
    mine = Organisation.objects.get(number_of_employees=499 + 1)
    old = Organisation.objects.skip_cdms().get(number_of_employees=7)
    old.name = "Renamed here"
    old.save()
    with count_requests() as counter:
        rows = list(Organisation.objects.filter(pk__in=[created.pk, old.pk]))
    assert mine.pk == created.pk and len(rows) == 2
    assert counter.count == 0


def test_unverified_reads_check_nothing_and_see_deletions_at_the_delete_watermark(mirrored, cdms, api, settings):
    settings.CDMS_UNVERIFIED_READS = True
    age_vouches()
    cdms.store.delete("Account", mirrored[0])
    with count_requests() as counter:
        response = api.get(LIST, {"ordering": "number_of_employees"})
    assert response.json()["results"][0]["number_of_employees"] == 0  # gone, not yet swept
    assert counter.count == 0 and "X-CDMS-Stale" not in response
    Watermark.objects.filter(entity="Account").update(deletions_until=timezone.now() - dt.timedelta(hours=1))
    response = api.get(LIST, {"ordering": "number_of_employees"})
    assert int(response["X-CDMS-Stale"]) >= 3600  # past CDMS_MAX_DELETE_STALENESS: marked
    round_of()
    response = api.get(LIST, {"ordering": "number_of_employees"})
    assert response.json()["results"][0]["number_of_employees"] == 1


def test_the_contacts_of_one_organisation_cost_one_request_on_first_view_and_none_again(mirrored, cdms, api):
    for i in range(30):
        seed_contact(cdms, f"Ann {i:02}", account=mirrored[0])
    round_of()
    age_vouches()
    org = Organisation.objects.skip_cdms().get(cdms_pk=mirrored[0])
    with count_requests() as first:
        response = api.get("/api/v1/contacts/", {"organisation": org.pk})
    assert response.json()["count"] == 30 and len(response.json()["results"]) == 25
    assert first.count == 1  # the page's 25 contacts; the id is looked up locally
    with count_requests() as repeat:
        api.get("/api/v1/contacts/", {"organisation": org.pk})
    assert repeat.count == 0
    with count_requests() as unknown:
        response = api.get("/api/v1/contacts/", {"organisation": 10**6})
    assert response.status_code == 200 and response.json()["count"] == 0  # no such organisation
    assert unknown.count == 0


def test_the_vouch_check_looks_up_each_row_of_the_page_not_every_vouch(mirrored):
    rows = Organisation.objects.skip_cdms().order_by("name")[:25]
    checked = vouching.unvouched(Organisation._base_manager.filter(pk__in=[r.pk for r in rows]), 60)
    sql, params = checked.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "SubPlan" not in plan, plan  # an anti-join, not the set of every vouch
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            assert re.search(r"USING (COVERING )?INDEX \S+ \(entity=\? AND cdms_pk=\?", plan), plan
    assert list(checked) == []  # the round vouched for every row


def test_a_deep_page_checks_its_keys_once_and_reads_its_rows_without_a_request(mirrored, api, cdms, monkeypatch):
    monkeypatch.setattr(paging, "DEEP_OFFSET", 20)
    age_vouches()
    cdms.store.delete("Account", mirrored[30])
    with count_requests() as first, CaptureQueriesContext(connection) as statements:
        response = api.get(LIST, {"ordering": "number_of_employees", "page": 2})
    shown = [row["number_of_employees"] for row in response.json()["results"]]
    assert shown == [*range(25, 30), *range(31, 51)]
    # The stamps of the page's 25 keys (one gone), then the key that moved in; the rows: none.
    assert first.count == 2
    keys = [s["sql"] for s in statements if s["sql"].startswith('SELECT "organisation_organisation"."id" AS "pk"')]
    keys = [sql for sql in keys if " OFFSET 25" in sql]
    assert len(keys) == 2  # evaluated again once a key was gone, never to learn its own keys
    with count_requests() as repeat:
        api.get(LIST, {"ordering": "number_of_employees", "page": 2})
    assert repeat.count == 0


@pytest.mark.django_db(transaction=True)
def test_vouches_older_than_the_horizon_are_pruned_once_a_minute_outside_transactions(settings, monkeypatch):
    settings.CDMS_MAX_STALENESS = 60
    monkeypatch.setattr(vouching, "_pruned", {})
    now = timezone.now()
    Vouch.objects.create(entity="Account", cdms_pk="old", at=now - dt.timedelta(seconds=vouching.HORIZON + 1))
    Vouch.objects.create(entity="Account", cdms_pk="recent", at=now - dt.timedelta(seconds=10))
    with CaptureQueriesContext(connection) as first:
        vouching.vouch(Organisation, ["new"], now)
    assert set(Vouch.objects.values_list("cdms_pk", flat=True)) == {"recent", "new"}
    Vouch.objects.create(entity="Account", cdms_pk="old again", at=now - dt.timedelta(hours=1))
    with CaptureQueriesContext(connection) as second:
        vouching.vouch(Organisation, ["newer"], now)
    assert [q for q in first if q["sql"].startswith("DELETE")]
    assert not [q for q in second if q["sql"].startswith("DELETE")]  # pruned less than a minute ago
    assert Vouch.objects.filter(cdms_pk="old again").exists()


def test_a_strict_deployment_records_no_vouch(cdms, settings):
    settings.CDMS_MAX_STALENESS = None
    seed_account(cdms, "Acme")
    assert len(Organisation.objects.all()) == 1
    assert not Vouch.objects.exists()
