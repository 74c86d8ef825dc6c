"""Key sweeps: deletions found by listing keys, proven by key, shared out in partitions."""

import datetime as dt

import pytest
from django.utils import timezone

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSError
from contact.models import Contact
from migrator.mirror.follower import follow
from migrator.mirror.state import SweepPartition, Watermark
from migrator.mirror.sweep import plan, sweep, sweep_part
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact


def local_keys(model=Organisation):
    return set(model.objects.skip_cdms().values_list("cdms_pk", flat=True))


@pytest.fixture
def mirrored(cdms):
    """60 accounts created a second apart (so that partitions by CreatedOn can split them), mirrored."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    keys = []
    for i in range(60):
        moment = start + dt.timedelta(seconds=i)
        record = cdms.store.insert("Account", {"Name": f"Org {i:03}"}, created_on=moment, modified_on=moment)
        keys.append(record["AccountId"])
    follow(Organisation, "test")
    return keys


@pytest.mark.parametrize("partitions", [1, 2, 5])
def test_every_deleted_record_goes_whatever_the_partitions(mirrored, cdms, partitions):
    gone = set(mirrored[::7])
    for key in gone:
        cdms.store.delete("Account", key)
    assert sweep(Organisation, "test", partitions=partitions) == len(gone)
    assert local_keys() == set(mirrored) - gone
    assert Watermark.objects.get(entity="Account").deletions_until is not None


def test_a_sweep_lists_keys_only_and_proves_each_deletion_by_key(mirrored, cdms):
    cdms.store.delete("Account", mirrored[0])
    with count_requests() as counter:
        sweep(Organisation, "test", partitions=1)
    # 59 keys listed in two pages of 50, then one by-key request proves the missing one gone.
    assert [(r.method, r.entity_set) for r in counter.requests] == [("GET", "AccountSet")] * 3
    assert mirrored[0] not in local_keys()


def test_a_row_whose_created_is_unknown_is_checked_by_key(mirrored, cdms):
    Organisation.objects.skip_cdms().filter(cdms_pk=mirrored[0]).update(created=None)
    cdms.store.delete("Account", mirrored[0])
    sweep(Organisation, "test", partitions=3)
    assert mirrored[0] not in local_keys()


def test_a_listing_that_misses_a_live_record_removes_nothing(mirrored, cdms):
    """Only a by-key answer proves a deletion: a record the listing did not return stays."""
    parts = plan(Organisation, 1)
    cdms.faults.add(status=503, count=20, method="GET")  # the listing fails: the part is not done
    with pytest.raises(CDMSError):
        sweep_part(Organisation, "test")
    cdms.faults.clear()
    assert local_keys() == set(mirrored)
    assert SweepPartition.objects.get(pk=parts[0].pk).done_at is None
    assert Watermark.objects.get(entity="Account").deletions_until is None


def test_deleting_an_account_in_the_crm_removes_its_contacts_locally(cdms):
    acme = seed_account(cdms, "Acme")
    ann = seed_contact(cdms, "Ann", account=acme)
    follow(Organisation, "test")
    follow(Contact, "test")
    cdms.store.delete("Account", acme)
    sweep(Organisation, "test")
    assert not Contact.objects.skip_cdms().filter(cdms_pk=ann).exists()


def test_two_sweepers_share_one_sweep(mirrored, cdms):
    for key in mirrored[:3]:
        cdms.store.delete("Account", key)
    plan(Organisation, 4)
    first = sweep_part(Organisation, "one")
    second = sweep_part(Organisation, "two")
    assert {first.index, second.index} == {0, 1}
    assert Watermark.objects.get(entity="Account").deletions_until is None  # two parts still open
    sweep(Organisation, "three")
    assert local_keys() == set(mirrored[3:])
    assert Watermark.objects.get(entity="Account").deletions_until is not None


def test_a_candidate_that_is_alive_and_newer_locally_stops_nothing(mirrored, cdms):
    """A row the listing missed but the CRM has (here: CreatedOn moved) is kept, conflict or not."""
    Organisation.objects.skip_cdms().filter(cdms_pk=mirrored[3]).update(
        created=timezone.now() + dt.timedelta(days=1), modified=timezone.now() + dt.timedelta(days=1)
    )
    cdms.store.delete("Account", mirrored[4])
    assert sweep(Organisation, "test", partitions=3) == 1
    assert local_keys() == set(mirrored) - {mirrored[4]}
    assert Watermark.objects.get(entity="Account").deletions_until is not None
