"""Failed writes leave both sides alike, and a local delete does what the CRM's delete does.

Each test names a way a write used to leave the two sides apart: a delete that left an
organisation's contacts behind locally, a local failure after the CRM accepted (a trigger
that refuses the revision, a deferred foreign key), a compensation that forgot the children a
delete took, a create the CRM kept although the caller was told it failed, and a MERGE or
DELETE whose answer was lost.
"""

import logging
import re

import pytest
from django.db import DatabaseError, IntegrityError
from reversion.models import Version

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSError
from contact.models import Contact
from migrator.cdms_migrator import get_migrator
from migrator.exceptions import CompensationFailedError
from migrator.ops.comparison import compare
from migrator.write import writer as writes
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact
from tests.sync.local_faults import failing_commit, referred_to, refused

# django-reversion's table of versions.
VERSIONS = "reversion_version"


@pytest.fixture
def fast_client(cdms, settings):
    settings.CDMS_TIMEOUT = 0.3
    return cdms


def methods(counter):
    return [r.method for r in counter.requests]


def family(crm, contacts=2):
    """An organisation created through the sync layer, with `contacts` contacts."""
    org = Organisation.objects.create(name="Acme", city="Leeds")
    make = Contact.objects.create
    people = [make(first_name=f"P{i}", last_name="Lee", organisation=org) for i in range(contacts)]
    return org, people


def crm_contact_keys(crm, keys):
    return {key for key in keys if crm.store.get("Contact", key) is not None}


# 1. A local delete does what the CRM's delete does.


def test_deleting_an_organisation_removes_its_contacts_locally_and_keeps_their_history(cdms):
    org, people = family(cdms)
    local_only = Contact(first_name="Local", last_name="Only", organisation=org)
    local_only.save(skip_cdms=True)
    with count_requests() as counter:
        count, per_model = org.delete()
    assert methods(counter) == ["GET", "DELETE"]  # its contacts in the CRM, then the delete
    assert (count, per_model) == (3, {"organisation.Organisation": 1, "contact.Contact": 2})
    assert crm_contact_keys(cdms, [p.cdms_pk for p in people]) == set()
    assert list(Contact.objects.skip_cdms().values_list("first_name", "organisation_id")) == [("Local", None)]
    assert not Contact.objects.skip_cdms().filter(organisation__isnull=True).exclude(cdms_pk=None).exists()
    for person in people:  # deleted, not rewritten: their history is still there to recover them
        assert Version.objects.get_for_object_reference(Contact, person.pk).exists()
    assert Version.objects.get_deleted(Contact).count() == 2
    for model in (Organisation, Contact):
        assert compare(get_migrator(model)).missing_in_crm == []


def test_deleting_an_organisation_through_the_api_removes_its_contacts(cdms, api):
    org, people = family(cdms)
    assert api.delete(f"/api/v1/organisations/{org.pk}/").status_code == 204
    assert Contact.objects.skip_cdms().count() == 0
    assert api.get("/api/v1/contacts/").json()["count"] == 0
    assert cdms.store.count("Contact") == 0


def test_a_contact_the_crm_moved_elsewhere_is_refreshed_not_removed(cdms):
    org, (moved, stays) = family(cdms)
    other = seed_account(cdms, "Other")
    cdms.store.update("Contact", moved.cdms_pk, {"ParentCustomerId": {"Id": other, "LogicalName": "account"}})
    org.delete()
    assert cdms.store.get("Contact", moved.cdms_pk) is not None
    row = Contact.objects.skip_cdms().get(cdms_pk=moved.cdms_pk)
    assert row.organisation.cdms_pk == other
    assert not Contact.objects.skip_cdms().filter(cdms_pk=stays.cdms_pk).exists()


def test_a_contact_the_mirror_missed_goes_with_its_organisation(cdms):
    org, _ = family(cdms, contacts=0)
    unseen = seed_contact(cdms, "Unseen", account=org.cdms_pk)
    elsewhere = Organisation.objects.create(name="Elsewhere")
    stale = Contact.objects.create(first_name="Stale", last_name="Row", organisation=elsewhere)
    moved = {"ParentCustomerId": {"Id": org.cdms_pk, "LogicalName": "account"}}
    cdms.store.update("Contact", stale.cdms_pk, moved)  # the mirror still links it elsewhere
    with count_requests() as counter:
        count, _ = org.delete()
    assert methods(counter) == ["GET", "DELETE"]
    assert count == 2  # the organisation's row and the stale contact's (the other was never local)
    assert cdms.store.get("Contact", stale.cdms_pk) is None and cdms.store.get("Contact", unseen) is None
    assert not Contact.objects.skip_cdms().filter(cdms_pk=stale.cdms_pk).exists()


def test_deleting_organisations_in_bulk_removes_their_contacts(cdms):
    first, people = family(cdms)
    second = Organisation.objects.create(name="Bolt")
    kept = Contact.objects.create(first_name="Kept", last_name="Lee", organisation=second)
    cdms.faults.add(kind="status", status=400, method="DELETE", count=1)
    with pytest.raises(Exception) as err:
        Organisation.objects.all().delete()
    ((refused_org, _),) = err.value.failures
    survivors = set(Contact.objects.skip_cdms().values_list("cdms_pk", flat=True))
    crm_survivors = crm_contact_keys(cdms, [*(p.cdms_pk for p in people), kept.cdms_pk])
    assert survivors == crm_survivors  # the refused organisation keeps its contacts on both sides
    assert len(survivors) == (2 if refused_org.cdms_pk == first.cdms_pk else 1)
    assert Organisation.objects.all().delete()[1].get("contact.Contact") == len(survivors)
    assert Contact.objects.skip_cdms().count() == 0 and cdms.store.count("Contact") == 0


# 2. A write the local database refuses never reaches the CRM; a compensation restores all.


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("primary_key", [True, False], ids=["referring-table-with-pk", "without-pk"])
def test_a_delete_refused_by_a_deferred_foreign_key_never_reaches_the_crm(cdms, primary_key):
    org, people = family(cdms)
    table = Organisation._meta.db_table
    refused = pytest.raises(IntegrityError, match="raw_reference")
    with referred_to(table, org.pk, primary_key), count_requests() as counter, refused:
        org.delete()
    assert "DELETE" not in methods(counter)
    assert cdms.store.get("Account", org.cdms_pk) is not None
    assert crm_contact_keys(cdms, [p.cdms_pk for p in people]) == {p.cdms_pk for p in people}
    assert Contact.objects.skip_cdms().filter(organisation=org).count() == 2
    org.delete()  # retried once the reference is gone
    assert cdms.store.count("Account") == 0 and Contact.objects.skip_cdms().count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_save_refused_by_a_deferred_foreign_key_never_reaches_the_crm(cdms):
    org, (person, _) = family(cdms)
    gone = Organisation.objects.create(name="Gone")
    person.organisation_id = gone.pk
    Organisation.objects.skip_cdms().filter(pk=gone.pk).delete()
    with count_requests() as counter, pytest.raises(IntegrityError):
        person.save()
    assert counter.count == 0
    assert cdms.store.get("Contact", person.cdms_pk)["ParentCustomerId"]["Id"] == org.cdms_pk


@pytest.mark.django_db(transaction=True)
def test_a_compensated_delete_recreates_the_contacts_it_took_and_says_so(cdms, caplog):
    org, people = family(cdms)
    with caplog.at_level(logging.ERROR), failing_commit(), pytest.raises(DatabaseError):
        org.delete()
    assert (org.pk, org.cdms_pk) != (None, None)
    record = cdms.store.get("Account", org.cdms_pk)
    assert (record["Name"], record["Address1_City"]) == ("Acme", "Leeds")
    for person in people:
        crm = cdms.store.get("Contact", person.cdms_pk)
        assert (crm["FirstName"], crm["ParentCustomerId"]["Id"]) == (person.first_name, org.cdms_pk)
        assert person.cdms_pk in caplog.text
    assert "compensated" in caplog.text and "2 Contact" in caplog.text
    assert Contact.objects.skip_cdms().filter(organisation=org).count() == 2
    assert sorted(Contact.objects.filter(organisation=org).values_list("first_name", flat=True)) == ["P0", "P1"]


@pytest.mark.django_db(transaction=True)
def test_a_compensated_bulk_delete_recreates_the_contacts_it_took(cdms):
    org, people = family(cdms)
    with failing_commit(), pytest.raises(DatabaseError):
        Organisation.objects.all().delete()
    assert cdms.store.get("Account", org.cdms_pk)["Name"] == "Acme"
    assert crm_contact_keys(cdms, [p.cdms_pk for p in people]) == {p.cdms_pk for p in people}
    assert Contact.objects.count() == 2 and Organisation.objects.count() == 1


# 3. A failed call leaves the instance exactly retryable.


@pytest.mark.django_db(transaction=True)
def test_a_save_whose_revision_is_refused_is_undone_in_the_crm_and_sent_again_on_retry(cdms):
    org = Organisation.objects.create(name="Acme")
    org.name = "Acme Ltd"
    with refused(VERSIONS), pytest.raises(Exception, match="refused by a trigger"):
        org.save()
    assert cdms.store.get("Account", org.cdms_pk)["Name"] == "Acme"
    assert org.name == "Acme Ltd"
    with count_requests() as counter:
        org.save()
    assert methods(counter) == ["MERGE", "GET"]
    assert cdms.store.get("Account", org.cdms_pk)["Name"] == "Acme Ltd"
    assert Organisation.objects.skip_cdms().get(pk=org.pk).name == "Acme Ltd"


@pytest.mark.django_db(transaction=True)
def test_a_create_whose_revision_is_refused_leaves_nothing_in_the_crm(cdms):
    org = Organisation(name="Acme")
    with refused(VERSIONS), pytest.raises(Exception, match="refused by a trigger"):
        org.save()
    assert cdms.store.count("Account") == 0
    assert (org.pk, org.cdms_pk, org._state.adding) == (None, None, True)
    assert Organisation.objects.count() == 0  # nothing appears later either
    org.save()
    assert cdms.store.count("Account") == 1 and Organisation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_create_whose_undo_fails_says_so_and_its_retry_adopts_the_record(fast_client):
    org = Organisation(name="Acme")
    fast_client.faults.add(kind="status", status=503, method="DELETE", count=20)
    fast_client.faults.add(kind="status", status=503, method="GET", count=20)
    with refused(VERSIONS), pytest.raises(CompensationFailedError) as err:
        org.save()
    fast_client.faults.clear()
    assert "refused by a trigger" in str(err.value.__cause__)
    assert fast_client.store.count("Account") == 1  # the CRM kept it, and the caller was told
    assert Organisation.objects.count() == 1  # a read (or the follower) brings it in
    org.save()
    assert fast_client.store.count("Account") == 1
    assert list(Organisation.objects.skip_cdms().values_list("pk", "cdms_pk")) == [(org.pk, org.cdms_pk)]


@pytest.mark.django_db(transaction=True)
def test_through_the_api_a_refused_revision_never_reaches_the_crm(cdms, api):
    org = Organisation.objects.create(name="Acme")
    api.raise_request_exception = False  # a database that refuses a write is a 500
    # The request's revision is written when the request ends: it is rehearsed before the CRM call.
    with refused(VERSIONS), count_requests() as counter:
        created = api.post("/api/v1/organisations/", {"name": "Bolt"}, format="json")
        changed = api.patch(f"/api/v1/organisations/{org.pk}/", {"name": "Acme Ltd"}, format="json")
    assert (created.status_code, changed.status_code) == (500, 500)
    assert "POST" not in methods(counter) and "MERGE" not in methods(counter)
    assert [r["Name"] for r in [cdms.store.get("Account", org.cdms_pk)]] == ["Acme"]
    assert cdms.store.count("Account") == 1
    assert api.patch(f"/api/v1/organisations/{org.pk}/", {"name": "Acme Ltd"}, format="json").status_code == 200
    assert cdms.store.get("Account", org.cdms_pk)["Name"] == "Acme Ltd"


def test_the_api_says_when_a_failed_create_could_not_be_undone(fast_client, api, monkeypatch):
    monkeypatch.setattr(writes, "store", lambda *a: (_ for _ in ()).throw(RuntimeError("disk full")))
    fast_client.faults.add(kind="status", status=503, method="DELETE", count=20)
    fast_client.faults.add(kind="status", status=503, method="GET", count=20)
    answer = api.post("/api/v1/organisations/", {"name": "Acme"}, format="json")
    fast_client.faults.clear()
    assert answer.status_code == 502 and answer.json()["code"] == "cdms_write_not_undone"
    (key,) = re.findall(r"Account ([0-9a-f-]{36})", answer.json()["detail"])
    assert fast_client.store.get("Account", key)["Name"] == "Acme"  # the record it names is the one kept
    assert fast_client.store.count("Account") == 1


# 4. A MERGE or DELETE whose answer was lost is settled before the call returns.


@pytest.mark.parametrize("kind", ["cut", "status", "html"])
def test_a_merge_whose_answer_was_lost_is_settled_as_landed(fast_client, kind):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    # Every attempt lands and loses its answer (the client repeats a MERGE that failed so).
    fast_client.faults.add(kind=kind, status=500, method="MERGE", after=True, count=10)
    org.city = "York"
    with count_requests() as counter:
        org.save()  # the record read back holds the change: done
    assert methods(counter)[-1] == "GET" and methods(counter).count("GET") == 1
    assert fast_client.store.get("Account", org.cdms_pk)["Address1_City"] == "York"
    row = Organisation.objects.skip_cdms().get(pk=org.pk)
    assert (row.city, row.modified) == ("York", org.modified)
    assert org.modified == Organisation.objects.get(pk=org.pk).modified


def test_a_merge_that_did_not_land_is_settled_as_failed(fast_client):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    fast_client.faults.add(kind="cut", method="MERGE", count=10)
    org.city = "York"
    with count_requests() as counter, pytest.raises(CDMSError):
        org.save()
    assert methods(counter)[-1] == "GET"  # read back: the CRM does not hold it
    assert Organisation.objects.skip_cdms().get(pk=org.pk).city == "Leeds"
    fast_client.faults.clear()
    org.save()
    assert fast_client.store.get("Account", org.cdms_pk)["Address1_City"] == "York"


@pytest.mark.parametrize("kind", ["cut", "status", "html"])
def test_a_delete_whose_answer_was_lost_is_settled_as_landed(fast_client, kind):
    org, people = family(fast_client)
    fast_client.faults.add(kind=kind, status=500, method="DELETE", after=True, count=10)
    org.delete()
    assert fast_client.store.get("Account", org.cdms_pk) is None
    assert Organisation.objects.skip_cdms().count() == 0 and Contact.objects.skip_cdms().count() == 0


def test_bulk_writes_settle_lost_answers(fast_client):
    orgs = Organisation.objects.bulk_create([Organisation(name=f"Firm {i}", city="Leeds") for i in range(3)])
    fast_client.faults.add(kind="cut", method="MERGE", after=True, count=30)
    assert Organisation.objects.all().update(city="York") == 3
    assert {fast_client.store.get("Account", o.cdms_pk)["Address1_City"] for o in orgs} == {"York"}
    fast_client.faults.add(kind="cut", method="DELETE", after=True, count=30)
    assert Organisation.objects.all().delete()[0] == 3
    assert fast_client.store.count("Account") == 0 and Organisation.objects.skip_cdms().count() == 0
