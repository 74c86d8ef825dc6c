"""Bounded-staleness reads: answered from the mirror within the bound, verified by key, strict past it."""

import datetime as dt
import logging

import hypothesis
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import strategies as st

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSError
from contact.models import Contact
from migrator.mirror.state import Watermark
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact
from tests.follow.test_follower import round_of
from tests.follow.vouches import age_vouches


@pytest.fixture
def mirrored(cdms, settings):
    """30 accounts with a contact each, mirrored by one follower round; reads bounded at 60 s."""
    settings.CDMS_MAX_STALENESS = 60
    keys = [seed_account(cdms, f"Org {i:02}", NumberOfEmployees=i) for i in range(30)]
    for key in keys[:3]:
        seed_contact(cdms, "Ann", account=key)
    round_of()
    # The round vouched for every row; these tests are about rows the CRM last showed long ago.
    age_vouches()
    return keys


def test_a_bounded_list_checks_its_rows_in_batched_requests(mirrored):
    with count_requests() as counter:
        rows = list(Organisation.objects.order_by("number_of_employees")[:25])
    assert [r.number_of_employees for r in rows] == list(range(25))
    assert counter.count == 1  # their stamps, 29 keys a request (23 whole Organisations would fit)


def test_count_exists_and_aggregates_are_answered_locally(mirrored):
    with count_requests() as counter:
        assert Organisation.objects.count() == 30
        assert Organisation.objects.filter(name="Org 03").exists()
        assert Contact.objects.filter(organisation__name="Org 01").count() == 1
    assert counter.count == 0


def test_a_row_deleted_in_the_crm_is_never_shown_and_the_slice_is_refilled(mirrored, cdms):
    cdms.store.delete("Account", mirrored[2])
    rows = list(Organisation.objects.order_by("number_of_employees")[:5])
    assert [r.number_of_employees for r in rows] == [0, 1, 3, 4, 5]
    assert not Organisation.objects.skip_cdms().filter(cdms_pk=mirrored[2]).exists()
    assert not Contact.objects.skip_cdms().filter(organisation__cdms_pk=mirrored[2]).exists()


def test_a_row_changed_in_the_crm_is_shown_as_the_crm_has_it_or_not_at_all(mirrored, cdms):
    later = timezone.now() + dt.timedelta(seconds=2)
    cdms.store.update("Account", mirrored[0], {"Name": "Renamed"}, modified_on=later)
    assert list(Organisation.objects.filter(name="Org 00")) == []  # verified, refreshed, filtered out
    assert Organisation.objects.get(cdms_pk=mirrored[0]).name == "Renamed"
    cdms.store.update("Account", mirrored[1], {"Name": "Gone elsewhere"}, modified_on=later)
    names = list(Organisation.objects.filter(name__startswith="Org 0").values_list("name", flat=True))
    assert "Org 01" not in names and "Gone elsewhere" not in names


def test_values_rows_are_verified_too(mirrored, cdms):
    cdms.store.delete("Account", mirrored[0])
    names = list(Organisation.objects.order_by("number_of_employees").values_list("name", flat=True)[:3])
    assert names == ["Org 01", "Org 02", "Org 03"]


def test_a_stale_watermark_makes_the_read_strict_and_says_so(mirrored, cdms, caplog):
    Watermark.objects.filter(entity="Account").update(changes_until=timezone.now() - dt.timedelta(minutes=5))
    added = seed_account(cdms, "Added in the CRM", NumberOfEmployees=100)
    with caplog.at_level(logging.WARNING, logger="migrator.read.gate"), count_requests() as counter:
        found = Organisation.objects.filter(number_of_employees=100).get()
    assert found.cdms_pk == added and counter.count >= 1
    assert "Account: the follower's change watermark is 300 s old, past its bound of 60 s; reading strictly" in (
        caplog.text
    )


def test_the_crm_down_and_the_follower_behind_a_strict_fallback_fails_with_a_crm_error(mirrored, cdms, settings):
    settings.CDMS_STALE_READS = "strict"
    Watermark.objects.filter(entity="Account").update(changes_until=timezone.now() - dt.timedelta(minutes=5))
    cdms.faults.add(status=503, count=100)
    with pytest.raises(CDMSError):
        list(Organisation.objects.all())


def test_strict_and_max_staleness_override_the_configured_bound(mirrored, cdms, settings):
    with count_requests() as strict:
        Organisation.objects.strict().count()
    assert strict.count >= 1
    settings.CDMS_MAX_STALENESS = None
    with count_requests() as bounded:
        Organisation.objects.max_staleness(60).count()
    assert bounded.count == 0
    with pytest.raises(ValueError, match="non-negative number of seconds"):
        Organisation.objects.max_staleness(-1)


def test_no_watermark_yet_means_strict(cdms, settings):
    settings.CDMS_MAX_STALENESS = 60
    seed_account(cdms, "Acme")
    with count_requests() as counter:
        assert Organisation.objects.count() == 1
    assert counter.count == 1


def test_a_bounded_page_costs_a_constant_number_of_sql_statements(mirrored):
    list(Organisation.objects.all()[:10])
    with CaptureQueriesContext(connection) as queries:
        list(Organisation.objects.all()[10:20])
    # Watermarks, the page, the local versions of its unvouched rows, the in-sync reconcile
    # check, their vouch.
    assert len(queries) == 5


def test_writes_stay_write_through_so_a_process_reads_its_own_writes(mirrored):
    org = Organisation.objects.create(name="Mine", number_of_employees=1000)
    assert Organisation.objects.get(number_of_employees=1000).pk == org.pk
    org.name = "Mine, renamed"
    org.save()
    assert Organisation.objects.filter(name="Mine, renamed").count() == 1


def test_a_subquery_of_another_entity_needs_that_entity_fresh_too(mirrored, cdms):
    Watermark.objects.filter(entity="Contact").update(changes_until=timezone.now() - dt.timedelta(minutes=5))
    ann = seed_contact(cdms, "Ann", account=mirrored[10])  # added in the CRM since the stale watermark
    parents = Organisation.objects.filter(pk__in=Contact.objects.filter(first_name="Ann").values("organisation"))
    with count_requests() as counter:
        names = set(parents.values_list("name", flat=True))
    assert "Org 10" in names and counter.count >= 1  # strict: the new contact was read from the CRM
    assert Contact.objects.skip_cdms().filter(cdms_pk=ann).exists()


def test_a_filter_through_the_reverse_relation_needs_both_entities_fresh(mirrored, cdms):
    Watermark.objects.filter(entity="Contact").update(changes_until=timezone.now() - dt.timedelta(minutes=5))
    seed_contact(cdms, "Zed", account=mirrored[20])
    assert Organisation.objects.filter(contacts__first_name="Zed").get().name == "Org 20"


def test_a_page_too_wide_for_one_request_asks_stamps_first_and_fetches_only_what_changed(mirrored, cdms):
    cdms.store.update("Account", mirrored[3], {"Name": "Renamed"})
    cdms.store.delete("Account", mirrored[7])
    with count_requests() as counter:
        rows = list(Organisation.objects.order_by("number_of_employees")[:25])
    stamps, changed, *rest = counter.requests
    assert stamps.option("$select") == "AccountId,ModifiedOn,VersionNumber"
    assert changed.option("$filter") == f"AccountId eq guid'{mirrored[3]}'"  # the one changed row, whole
    names = [r.name for r in rows]
    assert "Renamed" in names and "Org 07" not in names and len(rows) == 25
    # The deleted row's place is taken by the next; its check is a request of its own.
    assert len(rest) == 1 and rest[0].option("$filter") == f"AccountId eq guid'{mirrored[25]}'"
    with count_requests() as again:
        assert [r.name for r in Organisation.objects.order_by("number_of_employees")[:25]] == names
    assert again.count == 0  # every row vouched for, the unchanged ones by their stamps


def test_without_versions_a_row_with_an_equal_stamp_is_fetched_whole(mirrored, cdms):
    cdms.version_number = "absent"
    with count_requests() as counter:
        rows = list(Organisation.objects.order_by("number_of_employees")[:25])
    assert len(rows) == 25
    # Equal seconds prove nothing without a version: the stamps, then the 25 records in two.
    assert counter.count == 3


CHANGES = st.lists(
    st.tuples(st.integers(min_value=0, max_value=29), st.sampled_from(["later", "same second", "delete"])),
    max_size=6,
)


@pytest.fixture(params=["string", "absent"])
def versions(request, cdms):
    """The CRM sends VersionNumber (as OData v2 does) or not at all, from before the mirror is made."""
    cdms.version_number = request.param
    return request.param


@hypothesis.settings(
    max_examples=15, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(changes=CHANGES, name=st.sampled_from(["Zed", "ann"]))
def test_a_page_verified_by_stamps_first_is_the_crms_page(versions, mirrored, cdms, changes, name):
    """Whatever another CRM user renamed (later or within the second) or deleted, the page is the CRM's."""
    for index, change in changes:
        key = mirrored[index]
        record = cdms.store.get("Account", key)
        if record is None or (change == "delete" and cdms.store.count("Account") <= 26):
            continue
        if change == "delete":
            cdms.store.delete("Account", key)
        else:
            stamp = None if change == "later" else record["ModifiedOn"]
            cdms.store.update("Account", key, {"Name": f"{name} {index}"}, modified_on=stamp)
    age_vouches()
    page = [(r.cdms_pk, r.name) for r in Organisation.objects.order_by("number_of_employees")[:25]]
    held = [cdms.store.get("Account", key) for key in mirrored]
    expected = [(key, record["Name"]) for key, record in zip(mirrored, held, strict=True) if record][:25]
    assert page == expected
