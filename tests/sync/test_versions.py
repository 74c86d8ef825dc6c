"""Reads and writes stay right whatever the CRM sends as VersionNumber: a string, or nothing.

A real CRM 2011 sends the Edm.Int64 VersionNumber as a JSON string, and was seen to send it
null. With no version, two states of one second share a ModifiedOn: the values tell them apart.
"""

import datetime as dt

import pytest

from cdms_api.counting import count_requests
from migrator.cdms_migrator import get_migrator
from migrator.connection import get_client
from migrator.mirror.reconcile import IN_SYNC, LOCAL_NEWER, STALE, reconcile_page, sync_state
from organisation.models import Organisation

T = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)


def test_a_real_shaped_record_with_a_string_version_is_read():
    record = {"AccountId": "7a4814f9-2c5e-4d7a-8f2b-9e2b1c3d4e5f", "VersionNumber": "1047332", "Name": "Acme"}
    values = get_migrator(Organisation).from_cdms(record)
    assert values["cdms_version"] == 1047332


def test_equal_seconds_without_versions_are_judged_by_the_values():
    assert sync_state((T, None), (T, None)) == IN_SYNC
    assert sync_state((T, None), (T, None), values_differ=True) == STALE
    assert sync_state((T, 7), (T, 7), values_differ=True) == IN_SYNC  # the version decides
    assert sync_state((T, 7), (T, 8)) == STALE
    assert sync_state((T + dt.timedelta(seconds=1), None), (T, None), values_differ=True) == LOCAL_NEWER


@pytest.mark.parametrize("mode", ["string", "absent"])
def test_a_crm_edit_in_the_second_of_a_read_is_fetched_by_the_next_read(cdms, mode):
    cdms.version_number = mode
    key = cdms.store.insert("Account", {"Name": "Acme", "Address1_City": "Leeds"})["AccountId"]
    assert Organisation.objects.get(cdms_pk=key).city == "Leeds"
    same_second = cdms.store.get("Account", key)["ModifiedOn"]
    cdms.store.update("Account", key, {"Address1_City": "York"}, modified_on=same_second)
    assert Organisation.objects.get(cdms_pk=key).city == "York"
    assert Organisation.objects.skip_cdms().get(cdms_pk=key).city == "York"


@pytest.mark.parametrize("mode", ["string", "absent"])
def test_a_crm_edit_in_the_second_of_a_local_write_is_fetched_by_the_next_read(cdms, mode):
    cdms.version_number = mode
    org = Organisation.objects.create(name="Acme", city="Leeds")
    org.city = "Hull"
    org.save()
    same_second = cdms.store.get("Account", org.cdms_pk)["ModifiedOn"]
    cdms.store.update("Account", org.cdms_pk, {"Name": "Acme Ltd"}, modified_on=same_second)
    fresh = Organisation.objects.get(pk=org.pk)
    assert (fresh.name, fresh.city) == ("Acme Ltd", "Hull")


def test_an_unchanged_page_without_versions_writes_nothing(cdms, django_assert_num_queries):
    cdms.version_number = "absent"
    for n in range(3):
        cdms.store.insert("Account", {"Name": f"Org {n}"})
    list(Organisation.objects.all())
    with count_requests() as counter:
        page = next(get_client().list("Account"))
    assert counter.count == 1 and len(page) == 3
    with django_assert_num_queries(1):  # the page's rows and values, in one query; nothing written
        reconcile_page(Organisation, page)
