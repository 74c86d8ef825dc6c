"""A caller's atomic() block is one unit with the CRM: what a rolled-back block wrote is undone there too.

Every test counts the CRM requests of the block and of its undo, exactly: a block that commits
costs nothing extra; a block that rolls back costs, per write undone, a GET and a DELETE (a
create), a GET and a MERGE (an update), a POST per record re-created (a delete and its contacts).
"""

import logging

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from prometheus_client import REGISTRY

from cdms_api.counting import count_requests
from cdms_api.emulator.store import entity_of
from cdms_api.exceptions import CDMSBadRequestError
from contact.models import Contact
from migrator.mirror import journal
from organisation.models import Organisation


class Boom(Exception):
    """The caller's own failure, after its synced writes."""


def methods(counter):
    return [r.method for r in counter.requests]


def records(crm, entity):
    ent = entity_of(entity)
    return {r[ent.key].lower(): r for r in crm.store.render(ent, crm.store.select(f'SELECT * FROM "{ent.name}"'))}


def accounts(crm):
    return records(crm, "Account")


def contacts(crm):
    return records(crm, "Contact")


def conflicts():
    return REGISTRY.get_sample_value("cdms_write_conflicts_total", {"entity": "Account"}) or 0


def test_a_committing_block_keeps_every_write_and_costs_no_extra_request(cdms):
    with count_requests() as counter, transaction.atomic():
        org = Organisation.objects.create(name="Acme")
        Contact.objects.create(first_name="Ann", organisation=org)
        org.city = "Leeds"
        org.save()
    assert methods(counter) == ["POST", "POST", "MERGE", "GET"]
    assert accounts(cdms)[org.cdms_pk]["Address1_City"] == "Leeds"
    assert len(contacts(cdms)) == 1
    assert journal.claim_left_over("default") == []


def test_a_contact_the_crm_refuses_takes_its_new_organisation_back_out_of_the_crm(cdms):
    cdms.faults.add(kind="status", status=400, method="POST", entity_set="ContactSet")
    with count_requests() as counter, pytest.raises(CDMSBadRequestError), transaction.atomic():
        org = Organisation.objects.create(name="Acme")
        Contact.objects.create(first_name="Ann", organisation=org)
    # the organisation's POST, the refused contact's POST and its look-up, then the undo: GET, DELETE
    assert methods(counter) == ["POST", "POST", "GET", "GET", "DELETE"]
    assert accounts(cdms) == {}
    assert not Organisation.objects.skip_cdms().exists()
    assert Organisation.objects.count() == 0  # and no read brings it back


def test_a_block_raising_after_a_create_an_update_and_a_delete_undoes_all_three(cdms):
    kept = Organisation.objects.create(name="Kept", city="Leeds")
    doomed = Organisation.objects.create(name="Doomed")
    Contact.objects.create(first_name="Ann", organisation=doomed)
    Contact.objects.create(first_name="Bob", organisation=doomed)
    before = accounts(cdms), contacts(cdms)
    with count_requests() as counter, pytest.raises(Boom), transaction.atomic():
        Organisation.objects.create(name="New")
        kept.city = "York"
        kept.save()
        doomed.delete()
        raise Boom
    # the block: POST; MERGE, GET; the delete's contacts read, DELETE. Then the undo, newest first:
    # the delete re-created (the organisation, then its two contacts), the update read and put
    # back, the create read and deleted.
    assert methods(counter) == ["POST", "MERGE", "GET", "GET", "DELETE"] + ["POST"] * 3 + [
        "GET",
        "MERGE",
        "GET",
        "DELETE",
    ]
    after = accounts(cdms), contacts(cdms)
    assert set(after[0]) == set(before[0]) and set(after[1]) == set(before[1])
    assert after[0][kept.cdms_pk]["Address1_City"] == "Leeds"
    assert {c["FirstName"] for c in after[1].values()} == {"Ann", "Bob"}
    assert sorted(Organisation.objects.values_list("name", flat=True)) == ["Doomed", "Kept"]
    assert Contact.objects.count() == 2


def test_queryset_update_and_bulk_create_in_a_rolled_back_block_are_undone(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    with count_requests() as counter, pytest.raises(Boom), transaction.atomic():
        Organisation.objects.filter(pk=org.pk).update(city="York")
        Organisation.objects.bulk_create([Organisation(name="One"), Organisation(name="Two")])
        raise Boom
    assert sorted(methods(counter)[-6:]) == ["DELETE", "DELETE", "GET", "GET", "GET", "MERGE"]
    assert set(accounts(cdms)) == {org.cdms_pk}
    assert accounts(cdms)[org.cdms_pk]["Address1_City"] == "Leeds"


def test_a_rolled_back_savepoint_undoes_only_its_own_writes(cdms):
    with transaction.atomic():
        outer = Organisation.objects.create(name="Outer")
        with pytest.raises(Boom), transaction.atomic():
            Organisation.objects.create(name="Inner")
            outer.city = "York"
            outer.save()
            raise Boom
        after_inner = accounts(cdms)
    assert set(after_inner) == {outer.cdms_pk}
    assert after_inner[outer.cdms_pk]["Address1_City"] is None
    assert set(accounts(cdms)) == {outer.cdms_pk}  # the outer block committed: its create stays


def test_writes_of_a_savepoint_released_into_a_block_that_rolls_back_are_undone(cdms):
    with pytest.raises(Boom), transaction.atomic():
        with transaction.atomic():
            Organisation.objects.create(name="Inner")
        with transaction.atomic(savepoint=False):
            Organisation.objects.create(name="No savepoint")
        raise Boom
    assert accounts(cdms) == {}


@pytest.mark.django_db(transaction=True)
def test_a_block_whose_commit_fails_is_undone_in_the_crm(cdms):
    """The caller's own statement leaves a deferred foreign key broken: the commit fails, after the CRM call."""
    with pytest.raises(IntegrityError), transaction.atomic():
        org = Organisation.objects.create(name="Acme")
        Contact.objects.skip_cdms().create(first_name="Orphan", organisation_id=10**9)
    assert org.cdms_pk and accounts(cdms) == {}
    assert not Organisation.objects.skip_cdms().exists()
    assert journal.claim_left_over("default") == []


def test_an_undo_never_overwrites_a_change_someone_else_made_meanwhile(cdms, caplog, client):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    seen = conflicts()
    with caplog.at_level(logging.ERROR, "migrator.mirror.intents"), pytest.raises(Boom), transaction.atomic():
        org.city = "York"
        org.save()
        cdms.store.update("Account", org.cdms_pk, {"Address1_City": "Hull"})  # another CRM user
        raise Boom
    assert accounts(cdms)[org.cdms_pk]["Address1_City"] == "Hull"
    assert conflicts() == seen + 1
    assert "CONFLICT" in caplog.text and org.cdms_pk in caplog.text
    [kept] = journal.conflicts()
    assert (kept["record_key"], kept["kind"]) == (org.cdms_pk, "update")
    assert journal.claim_left_over("default") == []  # a conflict is an operator's, never settled again
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    page = client.get("/admin/migrator/syncstatus/").content.decode()
    assert f'<tr class="left-write" data-key="{org.cdms_pk}"><td>update</td>' in page


def test_a_request_is_one_unit(cdms, api, monkeypatch):
    """A view whose second write the CRM refuses answers an error, and its first write is undone in the CRM."""
    from organisation.api.views import OrganisationViewSet

    cdms.faults.add(kind="status", status=400, method="POST", entity_set="ContactSet")

    def create_with_a_contact(self, serializer):
        serializer.save()
        Contact.objects.create(first_name="Refused", organisation=serializer.instance)

    monkeypatch.setattr(OrganisationViewSet, "perform_create", create_with_a_contact)
    response = api.post("/api/v1/organisations/", {"name": "Via the API"}, format="json")
    assert response.status_code == 502, response.content
    assert accounts(cdms) == {}
    assert not Organisation.objects.skip_cdms().exists()


def _family(name):
    org = Organisation.objects.create(name=name, city="Leeds")
    for first in ("Ann", "Bob"):
        Contact.objects.create(first_name=first, organisation=org)
    return Organisation.objects.get(pk=org.pk)


def _save(org):
    org.city = "York"
    org.save()


WRITES = {
    # kind: (the write, the requests of its undo when its block rolls back)
    "create": (lambda org: Organisation.objects.create(name=f"New {org.name}"), ["GET", "DELETE"]),
    "save": (_save, ["GET", "MERGE"]),
    "delete of an organisation with two contacts": (lambda org: org.delete(), ["POST", "POST", "POST"]),
    "bulk_create of two": (
        lambda org: Organisation.objects.bulk_create([Organisation(name="One"), Organisation(name="Two")]),
        ["GET", "DELETE", "GET", "DELETE"],
    ),
    "queryset update": (lambda org: Organisation.objects.filter(pk=org.pk).update(city="York"), ["GET", "MERGE"]),
    "queryset delete": (lambda org: Organisation.objects.filter(pk=org.pk).delete(), ["POST", "POST", "POST"]),
}


@pytest.mark.parametrize("kind", list(WRITES))
def test_the_undo_of_each_write_kind_costs_exactly(cdms, kind):
    write, undo = WRITES[kind]
    kept, undone = _family("Kept"), _family("Undone")
    with count_requests() as block, transaction.atomic():
        write(kept)
    with count_requests() as counter, pytest.raises(Boom), transaction.atomic():
        before = accounts(cdms), contacts(cdms)
        write(undone)
        raise Boom
    # A committing block costs its writes alone; a rolled-back one adds the undo's requests.
    assert methods(counter) == methods(block) + undo
    after = accounts(cdms), contacts(cdms)
    assert (set(after[0]), set(after[1])) == (set(before[0]), set(before[1]))
    assert {k: r["Address1_City"] for k, r in after[0].items()} == {
        k: r["Address1_City"] for k, r in before[0].items()
    }


def test_undoing_a_new_organisation_for_a_contact_under_a_contact_puts_that_contact_back(cdms):
    from tests.crm_records import seed_account, seed_contact

    parent = seed_contact(cdms, "Pat", "Day")
    child = seed_contact(cdms, "Cy", "Hill", ParentCustomerId={"Id": parent, "LogicalName": "contact"})
    acme = Organisation.objects.get(cdms_pk=seed_account(cdms, "Acme"))
    cy = Contact.objects.get(cdms_pk=child)
    assert cy.organisation is None  # a parent customer that is a contact is no organisation
    with count_requests() as counter, pytest.raises(Boom), transaction.atomic():
        cy.organisation = acme
        cy.save()
        raise Boom
    # What the CRM held (one GET, as only the CRM knows), the MERGE and its read, then the undo.
    assert methods(counter) == ["GET", "MERGE", "GET", "GET", "MERGE"]
    restored = contacts(cdms)[child]["ParentCustomerId"]
    assert (restored["Id"].lower(), restored["LogicalName"]) == (parent, "contact")
    assert Contact.objects.skip_cdms().get(cdms_pk=child).organisation is None


def test_a_crm_that_cannot_say_what_the_lookup_held_leaves_the_contact_as_it_was_and_a_retry_works(cdms):
    from cdms_api.exceptions import CDMSError
    from tests.crm_records import seed_account, seed_contact

    parent = seed_contact(cdms, "Pat", "Day")
    child = seed_contact(cdms, "Cy", "Hill", ParentCustomerId={"Id": parent, "LogicalName": "contact"})
    acme = Organisation.objects.get(cdms_pk=seed_account(cdms, "Acme"))
    cy = Contact.objects.get(cdms_pk=child)
    cdms.faults.add(kind="status", status=503, method="GET", entity_set="ContactSet", count=8)  # past the retries
    cy.organisation = acme
    with count_requests() as counter, pytest.raises(CDMSError):
        cy.save()
    assert "MERGE" not in methods(counter)  # nothing was written: the undo could not have been right
    assert contacts(cdms)[child]["ParentCustomerId"]["Id"].lower() == parent
    assert Contact.objects.skip_cdms().get(cdms_pk=child).organisation is None
    cdms.faults.clear()
    cy.save()  # the same instance, once the CRM answers
    assert contacts(cdms)[child]["ParentCustomerId"]["Id"].lower() == acme.cdms_pk
    assert Contact.objects.skip_cdms().get(cdms_pk=child).organisation == acme
