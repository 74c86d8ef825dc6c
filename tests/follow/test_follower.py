"""The change follower against the emulator: creates, edits, moves and deletes by another CRM user."""

import datetime as dt

import pytest
from django.utils import timezone

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSError
from contact.models import Contact
from migrator.mirror import entities
from migrator.mirror.follower import follow
from migrator.mirror.leases import take_follow_lease
from migrator.mirror.state import Watermark
from migrator.mirror.sweep import sweep
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact

HOLDER = "test-follower"


def local(model):
    return model.objects.skip_cdms()


def round_of(holder=HOLDER):
    """One full round: changes of every entity (parents first), then a sweep of each.

    Returns the results of Account's and Contact's rounds (the entities these tests change).
    """
    models = [migrator.model_class for migrator in entities.ordered()]
    results = {model: follow(model, holder) for model in models}
    for model in models:
        sweep(model, holder, partitions=2)
    return [results[Organisation], results[Contact]]


def test_the_follower_sees_creates_edits_moves_and_deletes_of_another_crm_user(cdms):
    acme, beta = seed_account(cdms, "Acme"), seed_account(cdms, "Beta")
    ann = seed_contact(cdms, "Ann", account=acme)
    bob = seed_contact(cdms, "Bob", account=beta)
    round_of()
    assert set(local(Organisation).values_list("name", flat=True)) == {"Acme", "Beta"}
    assert local(Contact).get(cdms_pk=ann).organisation.cdms_pk == acme

    later = timezone.now() + dt.timedelta(seconds=2)
    cdms.store.update("Account", acme, {"Name": "Acme Renamed"}, modified_on=later)
    cdms.store.update(
        "Contact", ann, {"ParentCustomerId": {"Id": beta, "LogicalName": "account"}}, modified_on=later
    )
    cdms.store.delete("Contact", bob)
    gamma = seed_account(cdms, "Gamma")
    round_of()

    assert set(local(Organisation).values_list("name", flat=True)) == {"Acme Renamed", "Beta", "Gamma"}
    assert local(Contact).get(cdms_pk=ann).organisation.cdms_pk == beta
    assert not local(Contact).filter(cdms_pk=bob).exists()
    assert local(Organisation).filter(cdms_pk=gamma).exists()

    cdms.store.delete("Account", beta)  # CRM 2011 deletes the account's contacts with it
    round_of()
    assert not local(Organisation).filter(cdms_pk=beta).exists()
    assert not local(Contact).exists()


def test_a_round_publishes_watermarks_that_never_move_back(cdms):
    seed_account(cdms, "Acme")
    before = timezone.now()
    round_of()
    after = timezone.now()
    mark = Watermark.objects.get(entity="Account")
    # The moment the round's first request was sent, on this machine's clock: no overlap.
    assert mark.changes_until is not None and before <= mark.changes_until <= after
    assert mark.deletions_until is not None and mark.deletions_until <= timezone.now()
    first = mark.changes_until
    Watermark.objects.filter(entity="Account").update(changes_until=first + dt.timedelta(hours=1))
    follow(Organisation, HOLDER)
    assert Watermark.objects.get(entity="Account").changes_until == first + dt.timedelta(hours=1)


def test_nothing_is_lost_across_pages_when_more_than_a_page_shares_one_modified_on(cdms):
    moment = (timezone.now() - dt.timedelta(minutes=1)).replace(microsecond=0)
    keys = {seed_account(cdms, f"Org {i:03}", modified_on=moment) for i in range(120)}
    with count_requests() as counter:
        result = follow(Organisation, HOLDER)
    assert result.rows == 120 and result.pages == 3 and counter.count == 3
    assert set(local(Organisation).values_list("cdms_pk", flat=True)) == keys
    mark = Watermark.objects.get(entity="Account")
    assert mark.cursor > moment  # the first answer's Date: the next poll re-reads none of them
    with count_requests() as again:
        assert follow(Organisation, HOLDER).rows == 0
    assert again.count == 1


def test_a_follower_killed_mid_round_resumes_from_its_checkpoint_without_loss_or_duplicates(cdms):
    base = (timezone.now() - dt.timedelta(minutes=10)).replace(microsecond=0)
    keys = [seed_account(cdms, f"Org {i:03}", modified_on=base + dt.timedelta(seconds=i)) for i in range(130)]
    # From the third page on, the CRM answers 503 (past the client's retries): the round dies.
    cdms.faults.add(status=503, count=50, method="GET")
    calls = {"n": 0}
    original = cdms.faults.take

    def fail_from_third(method, entity_set):
        calls["n"] += 1
        return original(method, entity_set) if calls["n"] >= 3 else None

    cdms.faults.take = fail_from_third
    try:
        with pytest.raises(CDMSError):
            follow(Organisation, HOLDER)
    finally:
        cdms.faults.take = original
        cdms.faults.clear()
    mark = Watermark.objects.get(entity="Account")
    assert mark.cursor == base + dt.timedelta(seconds=99)  # two pages applied and checkpointed
    assert mark.changes_until is None and "503" in mark.last_follow_error
    assert local(Organisation).count() == 100

    result = follow(Organisation, HOLDER)
    assert result.watermark is not None
    assert sorted(local(Organisation).values_list("cdms_pk", flat=True)) == sorted(keys)
    assert local(Organisation).count() == 130
    # The overlap re-read the checkpoint's last seconds: 30 new rows plus those 5 or 6 again.
    assert 30 < result.rows <= 40


def test_two_followers_of_one_entity_one_works(cdms):
    seed_account(cdms, "Acme")
    assert take_follow_lease("Account", "other-process")
    with count_requests() as counter:
        result = follow(Organisation, HOLDER)
    assert not result.leased and counter.count == 0
    assert not local(Organisation).exists()


def test_an_expired_lease_is_taken_over(cdms):
    seed_account(cdms, "Acme")
    assert take_follow_lease("Account", "killed-process")
    Watermark.objects.filter(entity="Account").update(lease_expires=timezone.now() - dt.timedelta(seconds=1))
    assert follow(Organisation, HOLDER).leased
    assert local(Organisation).count() == 1


def test_a_conflict_does_not_stop_the_follower(cdms):
    acme = seed_account(cdms, "Acme")
    follow(Organisation, HOLDER)
    local(Organisation).filter(cdms_pk=acme).update(
        name="Changed locally", modified=timezone.now() + dt.timedelta(days=1)
    )
    seed_account(cdms, "Beta")
    result = follow(Organisation, HOLDER)
    assert result.conflicts == [acme]
    assert local(Organisation).filter(name="Beta").exists()
    assert local(Organisation).get(cdms_pk=acme).name == "Changed locally"


def test_records_changed_between_two_pages_of_a_round_are_applied_in_that_round(cdms, monkeypatch):
    base = (timezone.now() - dt.timedelta(minutes=10)).replace(microsecond=0)
    keys = [seed_account(cdms, f"Org {i:03}", modified_on=base + dt.timedelta(seconds=i)) for i in range(120)]
    import migrator.mirror.follower as follower_module

    real = follower_module.reconcile_page
    calls = []

    def another_user_edits_after_the_first_page(model, page, **options):
        real(model, page, **options)
        calls.append(len(page))
        if len(calls) == 1:  # one record already passed, one still ahead, both edited now
            cdms.store.update("Account", keys[0], {"Name": "Passed, then edited"})
            cdms.store.update("Account", keys[110], {"Name": "Ahead, edited"})
            cdms.store.delete("Account", keys[5])  # already applied: the sweep's to find

    monkeypatch.setattr(follower_module, "reconcile_page", another_user_edits_after_the_first_page)
    result = follow(Organisation, HOLDER)
    assert result.watermark is not None
    names = dict(local(Organisation).values_list("cdms_pk", "name"))
    assert names[keys[0]] == "Passed, then edited" and names[keys[110]] == "Ahead, edited"
    assert len(names) == 120  # nothing went missing across the pages
    sweep(Organisation, HOLDER)
    assert set(local(Organisation).values_list("cdms_pk", flat=True)) == set(keys) - {keys[5]}
