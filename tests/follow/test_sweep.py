"""Key sweeps: deletions found by listing keys, proven by key, shared out in partitions."""

import datetime as dt

import pytest
from django.utils import timezone

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSError
from contact.models import Contact
from migrator.mirror.follower import follow
from migrator.mirror.state import SweepPartition, Watermark
from migrator.mirror.sweep import plan, sweep, sweep_next, sweep_part
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


def overlap():
    return dt.timedelta(seconds=5)


def test_the_delete_watermark_is_the_oldest_listing_of_the_parts(mirrored, cdms):
    sweep(Organisation, "test", partitions=4)
    parts = {p.index: p for p in SweepPartition.objects.all()}
    assert Watermark.objects.get().deletions_until == min(p.listed_from for p in parts.values()) - overlap()
    oldest = min(parts.values(), key=lambda p: p.listed_from)
    assert sweep_part(Organisation, "test", due_before=timezone.now()).index == oldest.index  # oldest first
    listed = SweepPartition.objects.values_list("listed_from", flat=True)
    assert Watermark.objects.get().deletions_until == min(listed) - overlap()
    assert Watermark.objects.get().deletions_until > oldest.listed_from - overlap()  # moved with one part


def test_an_interrupted_sweep_lists_again_instead_of_publishing_its_old_plan_time(mirrored, cdms):
    plan(Organisation, 2)
    sweep_part(Organisation, "first")
    cdms.faults.add(status=503, count=20, method="GET")  # the CRM goes down during the other part
    with pytest.raises(CDMSError):
        sweep_part(Organisation, "second")
    cdms.faults.clear()
    long_ago = timezone.now() - dt.timedelta(minutes=17)  # as if the outage had lasted that long
    SweepPartition.objects.update(sweep_started=long_ago)
    SweepPartition.objects.exclude(listed_from=None).update(listed_from=long_ago)
    assert SweepPartition.objects.get(index=1).claimed_by == ""  # the failed part was given back
    sweep(Organisation, "next")
    age = (timezone.now() - Watermark.objects.get().deletions_until).total_seconds()
    assert age < 60, "published the interrupted sweep's old time"


def test_a_killed_sweepers_part_is_taken_over_once_its_claim_expires(mirrored, cdms):
    plan(Organisation, 2)
    SweepPartition.objects.filter(index=0).update(
        claimed_by="dead", claim_expires=timezone.now() - dt.timedelta(seconds=1)
    )
    SweepPartition.objects.filter(index=1).update(
        claimed_by="alive", claim_expires=timezone.now() + dt.timedelta(minutes=1)
    )
    before = timezone.now()
    assert sweep_part(Organisation, "next", due_before=before).index == 0
    assert sweep_part(Organisation, "next", due_before=before) is None  # the live claim is respected
    assert Watermark.objects.get().deletions_until is None


def test_parts_listed_recently_are_not_due(mirrored, cdms):
    sweep(Organisation, "test", partitions=3)
    with count_requests() as counter:
        assert sweep_part(Organisation, "test", due_before=timezone.now() - dt.timedelta(minutes=5)) is None
    assert counter.count == 0


def test_a_plan_made_on_a_small_table_is_made_again_once_the_table_has_grown(cdms):
    sweep(Organisation, "test", partitions=4)  # an empty table: one part
    assert SweepPartition.objects.count() == 1
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    for i in range(300):
        moment = start + dt.timedelta(seconds=i)
        cdms.store.insert("Account", {"Name": f"Org {i:03}"}, created_on=moment, modified_on=moment)
    follow(Organisation, "test")
    first = Watermark.objects.get().deletions_until
    sweep(Organisation, "test", partitions=4)
    assert SweepPartition.objects.count() == 4
    assert sorted(SweepPartition.objects.values_list("rows", flat=True)) == [75, 75, 75, 75]
    assert Watermark.objects.get().deletions_until > first
    plans = set(SweepPartition.objects.values_list("sweep_started", flat=True))
    sweep(Organisation, "test", partitions=4)  # balanced now: the plan stays
    assert set(SweepPartition.objects.values_list("sweep_started", flat=True)) == plans


def test_sweeps_of_two_entities_are_taken_from_one_queue_oldest_first(mirrored, cdms, settings):
    settings.CDMS_SWEEP_PARTITIONS = 2
    seed_contact(cdms, "Ann")
    follow(Contact, "test")
    plan(Organisation)
    sweep_part(Organisation, "test")
    sweep_part(Organisation, "test")
    taken = sweep_next([Organisation, Contact], "test", timezone.now())
    assert taken.entity == "Contact"  # never listed: before the accounts listed a moment ago
    assert sweep_next([Organisation, Contact], "test", timezone.now()).entity == "Account"
