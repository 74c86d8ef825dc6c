"""A stateful model of writes under faults: every fault of the emulator, at every step of a write.

Hypothesis drives random sequences of creates, saves and deletes of organisations and of their
contacts, single and in bulk (`bulk_create`, queryset `update()` and `delete()`), each with
one fault armed at one of its steps: the CRM request (the POST, the MERGE, the GET after it,
the read of the contacts a delete takes, the DELETE), a second request after the first
failed (the look-up of a lost create, the read-back of a lost MERGE or DELETE, a
compensation), the local write after the CRM accepted, or the commit after it. Another CRM
user edits, moves and deletes records meanwhile (the CRM deletes an organisation's contacts
with it, wherever the local mirror still links them).

Properties:
- a call that fails leaves the instance as it was (pk, `_state.adding`, cdms_pk, values,
  change tracking), and the same call, retried without faults, succeeds (or finds the record
  deleted by the other user);
- after every step, before any read, every record the other user did not touch is the same
  locally and in the CRM; the records that exist in the CRM are exactly those the model
  expects (nothing lost, nothing left behind, no record made twice: an organisation's contacts
  go with it on both sides);
- after a read, the local tables equal the CRM (the read is skipped after the other user's
  change, so that the next write meets a stale mirror: a contact moved elsewhere, an
  organisation already deleted).

`make test` runs a few short histories. `WRITE_MODEL_STEPS=2000` runs histories until that many
steps have run (`SOAK=1` runs 500); the test prints how many ran.
"""

import os
import uuid

import pytest
from django.db import DatabaseError, connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from cdms_api.client import CDMSClient
from cdms_api.emulator.store import entity_of
from cdms_api.exceptions import CDMSError, CDMSNotFoundError
from contact.models import Contact
from migrator.exceptions import BulkWriteError, CompensationFailedError
from migrator.write import writer as writes
from migrator.write.snapshot import capture_state
from organisation.models import Organisation

KINDS = ["status-503", "status-500", "status-400", "hang", "html", "cut"]
# Where faults are armed, per write: the CRM request that fails first, and (after "+") one more
# armed once the first has failed, which hits the look-up of a lost create, the read-back of a
# lost MERGE or DELETE, or a compensation. "local": storing the CRM's answer fails; "commit":
# the commit after the CRM accepted fails.
STEPS = {
    "create": ["POST", "POST+GET", "POST+DELETE", "local", "local+DELETE", "commit", "commit+DELETE"],
    "update": ["MERGE", "MERGE+GET", "GET", "local", "local+MERGE", "commit", "commit+MERGE"],
    "delete": ["GET", "DELETE", "DELETE+GET", "commit", "commit+POST"],
    "bulk_create": ["POST", "POST+GET", "POST+DELETE", "commit", "commit+DELETE"],
    "bulk_update": ["GET", "MERGE", "MERGE+GET", "commit", "commit+MERGE"],
    "bulk_delete": ["GET", "DELETE", "DELETE+GET", "commit", "commit+POST"],
}
FAILURES = (CDMSError, BulkWriteError, DatabaseError, CompensationFailedError)
CITIES = ["York", "Hull", "Leeds", ""]
STEP_TARGET = int(os.environ.get("WRITE_MODEL_STEPS") or (500 if os.environ.get("SOAK") else 0))


def arm(crm, kind, method, after, count):
    """Arm one fault of `kind` on requests of `method`."""
    if kind.startswith("status-"):
        crm.faults.add(kind="status", status=int(kind[7:]), method=method, after=after, count=count)
    elif kind == "hang":
        crm.faults.add(kind="hang", seconds=1, method=method, after=after, count=count)
    else:
        crm.faults.add(kind=kind, method=method, after=after, count=count)


class LocalFailure(Exception):
    """The injected failure of the local write after the CRM accepted."""


class Steps:
    """How many steps the machine has run, across examples."""

    count = 0


def records(crm, entity):
    """Every record of `entity` the emulator holds, as wire JSON (read from its store, no request)."""
    ent = entity_of(entity)
    return crm.store.render(ent, crm.store.select(f'SELECT * FROM "{ent.name}"'))


def crm_orgs(crm):
    return {
        r["AccountId"].lower(): (r["Name"] or "", r["Address1_City"] or "", r["NumberOfEmployees"])
        for r in records(crm, "Account")
    }


def crm_contacts(crm):
    return {
        r["ContactId"].lower(): (
            r["FirstName"] or "",
            r["LastName"] or "",
            (r["ParentCustomerId"] or {}).get("Id"),
        )
        for r in records(crm, "Contact")
    }


def local_orgs():
    rows = Organisation.objects.skip_cdms().values_list("cdms_pk", "name", "city", "number_of_employees")
    return {key: (name, city, employees) for key, name, city, employees in rows}


def local_contacts():
    rows = Contact.objects.skip_cdms().values_list("cdms_pk", "first_name", "last_name", "organisation__cdms_pk")
    return {key: (first, last, org) for key, first, last, org in rows}


def make_machine(crm):
    """The state machine class, bound to the test's emulator."""

    class WriteModel(RuleBasedStateMachine):
        orgs = Bundle("orgs")
        contacts = Bundle("contacts")

        def __init__(self):
            super().__init__()
            crm.reset()
            Contact.objects.skip_cdms().all().delete()
            Organisation.objects.skip_cdms().all().delete()
            self.serial = 0
            self.expected = {"Account": set(), "Contact": set()}
            self.parent = {}  # contact key -> organisation key, as the model expects
            self.dirty = set()  # keys the other CRM user changed since the last read
            self.stale = False  # the other user just changed the CRM: let the next write meet a stale mirror
            self.fail_local = self.commit_fault = self.fail_commit = False
            self.second = None
            self._patch()

        def _patch(self):
            self.store, self.wrapper = writes.store, connections["default"]
            writes.store = self._store
            real_commit = self.wrapper.commit

            def commit():
                if self.fail_commit:
                    self.fail_commit = False
                    self.arm_second()
                    raise DatabaseError("the commit failed")
                return real_commit()

            self.wrapper.commit = commit
            self.client_methods = {
                name: getattr(CDMSClient, name) for name in ("create", "update", "delete", "get")
            }
            for name, real in self.client_methods.items():
                setattr(CDMSClient, name, self._watched(name, real))

        def _watched(self, name, real):
            machine = self

            def call(client, *args, **kwargs):
                try:
                    result = real(client, *args, **kwargs)
                except CDMSError:
                    machine.arm_second()
                    raise
                if name != "get" and machine.commit_fault:
                    machine.commit_fault, machine.fail_commit = False, True
                return result

            return call

        def teardown(self):
            writes.store = self.store
            del self.wrapper.commit
            for name, real in self.client_methods.items():
                setattr(CDMSClient, name, real)
            crm.faults.clear()

        def _store(self, *args):
            if self.fail_local:
                self.fail_local = False
                self.arm_second()
                raise LocalFailure("disk full")
            return self.store(*args)

        def arm_second(self):
            second, self.second = self.second, None
            if second:
                arm(crm, self.kind, second, self.after, self.count)

        def armed(self, step, kind, after, count):
            """Arm the first fault of `step` (the second is armed once the first has failed)."""
            Steps.count += 1
            first, _, self.second = step.partition("+")
            self.kind, self.after, self.count = kind, after, count
            if first == "local":
                self.fail_local = True
            elif first == "commit":
                self.commit_fault = True
            else:
                arm(crm, kind, first, after, count)

        def disarm(self):
            crm.faults.clear()
            self.fail_local = self.commit_fault = self.fail_commit = False
            self.second = None

        def attempt(self, operation, instance, fault, call):
            """Run `call` with the faults armed; check a failure leaves the instance retryable."""
            before = capture_state(instance)
            self.armed(*fault)
            try:
                call()
            except (*FAILURES, LocalFailure):
                self.disarm()
                assert capture_state(instance) == before, f"{operation} left the instance changed"
                try:
                    call()  # retried as is, without faults
                except CDMSNotFoundError:
                    assert operation.startswith("update"), "only the other CRM user's deletion may stop a retry"
                    return False
            finally:
                self.disarm()
            return True

        def in_bulk(self, fault, call, allowed_retry_failure=CDMSNotFoundError):
            """Run a bulk `call` with the faults armed; on a failure, retry it without faults."""
            self.armed(*fault)
            try:
                return call()
            except (*FAILURES, LocalFailure) as exc:
                self.disarm()
                failed = exc.failures if isinstance(exc, BulkWriteError) else None
                try:
                    return call(failed)
                except BulkWriteError as again:
                    assert all(isinstance(error, allowed_retry_failure) for _, error in again.failures)
            finally:
                self.disarm()

        def forget_org(self, key):
            self.expected["Account"].discard(key)
            for child in [c for c, parent in self.parent.items() if parent == key]:
                self.expected["Contact"].discard(child)
                del self.parent[child]

        def alive(self, obj, entity):
            return obj.cdms_pk in self.expected[entity]

        # Organisations.

        @rule(
            target=orgs,
            step=st.sampled_from(STEPS["create"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.sampled_from([1, 10])),
        )
        def create_org(self, step, fault):
            self.serial += 1
            org = Organisation(name=f"Firm {self.serial}", city="Leeds")
            self.attempt("create", org, (step, *fault), org.save)
            assert org.pk is not None and org.cdms_pk is not None
            self.expected["Account"].add(org.cdms_pk)
            return org

        @rule(
            org=orgs,
            city=st.sampled_from(CITIES),
            step=st.sampled_from(STEPS["update"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.sampled_from([1, 10])),
        )
        def update_org(self, org, city, step, fault):
            if not self.alive(org, "Account"):
                return
            org.city = city
            org.number_of_employees = (org.number_of_employees or 0) + 1
            if self.attempt("update", org, (step, *fault), org.save):
                assert crm.store.get("Account", org.cdms_pk)["NumberOfEmployees"] == org.number_of_employees

        @rule(
            org=consumes(orgs),
            step=st.sampled_from(STEPS["delete"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.sampled_from([1, 10])),
        )
        def delete_org(self, org, step, fault):
            if not self.alive(org, "Account"):
                return
            self.attempt("delete", org, (step, *fault), org.delete)
            assert crm.store.get("Account", org.cdms_pk) is None
            self.forget_org(org.cdms_pk)

        @rule(
            target=orgs,
            step=st.sampled_from(STEPS["bulk_create"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.just(1)),
        )
        def bulk_create_orgs(self, step, fault):
            orgs = [Organisation(name=f"Firm {self.serial + i}", city="Leeds") for i in range(1, 4)]
            self.serial += 3

            def call(failed=None):
                retry = orgs if failed is None else [obj for obj, _ in failed]
                assert failed is None or all(obj.pk is None and obj.cdms_pk is None for obj in retry)
                return Organisation.objects.bulk_create(retry)

            self.in_bulk((step, *fault), call)
            assert all(obj.pk is not None and obj.cdms_pk is not None for obj in orgs)
            self.expected["Account"].update(obj.cdms_pk for obj in orgs)
            return multiple(*orgs)

        @rule(
            city=st.sampled_from(CITIES),
            step=st.sampled_from(STEPS["bulk_update"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.just(1)),
        )
        def bulk_update_orgs(self, city, step, fault):
            self.in_bulk((step, *fault), lambda failed=None: Organisation.objects.all().update(city=city))
            assert {city} >= {values[1] for values in crm_orgs(crm).values()}

        @rule(
            city=st.sampled_from(CITIES),
            step=st.sampled_from(STEPS["bulk_delete"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.just(1)),
        )
        def bulk_delete_orgs(self, city, step, fault):
            doomed = {key for key, values in crm_orgs(crm).items() if values[1] == city}
            self.in_bulk((step, *fault), lambda failed=None: Organisation.objects.filter(city=city).delete())
            assert not doomed & set(crm_orgs(crm))
            for key in doomed:
                self.forget_org(key)

        # Contacts.

        @rule(
            target=contacts,
            org=orgs,
            step=st.sampled_from(STEPS["create"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.sampled_from([1, 10])),
        )
        def create_contact(self, org, step, fault):
            if not self.alive(org, "Account"):
                return multiple()
            self.serial += 1
            contact = Contact(first_name=f"P{self.serial}", last_name="Lee", organisation=org)
            self.attempt("create contact", contact, (step, *fault), contact.save)
            assert contact.pk is not None and contact.cdms_pk is not None
            self.expected["Contact"].add(contact.cdms_pk)
            self.parent[contact.cdms_pk] = org.cdms_pk
            return contact

        @rule(
            contact=contacts,
            last=st.sampled_from(["Lee", "Ng", "Ray"]),
            step=st.sampled_from(STEPS["update"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.sampled_from([1, 10])),
        )
        def update_contact(self, contact, last, step, fault):
            if not self.alive(contact, "Contact"):
                return
            contact.last_name = last + str(self.serial)
            self.serial += 1
            if self.attempt("update contact", contact, (step, *fault), contact.save):
                assert crm.store.get("Contact", contact.cdms_pk)["LastName"] == contact.last_name

        @rule(
            contact=consumes(contacts),
            step=st.sampled_from(["DELETE", "DELETE+GET", "commit", "commit+POST"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.sampled_from([1, 10])),
        )
        def delete_contact(self, contact, step, fault):
            if not self.alive(contact, "Contact"):
                return
            self.attempt("delete contact", contact, (step, *fault), contact.delete)
            assert crm.store.get("Contact", contact.cdms_pk) is None
            self.expected["Contact"].discard(contact.cdms_pk)
            self.parent.pop(contact.cdms_pk, None)

        @rule(
            target=contacts,
            org=orgs,
            step=st.sampled_from(STEPS["bulk_create"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.just(1)),
        )
        def bulk_create_contacts(self, org, step, fault):
            if not self.alive(org, "Account"):
                return multiple()
            people = [
                Contact(first_name=f"P{self.serial + i}", last_name="Lee", organisation=org) for i in range(2)
            ]
            self.serial += 2

            def call(failed=None):
                return Contact.objects.bulk_create(people if failed is None else [obj for obj, _ in failed])

            self.in_bulk((step, *fault), call)
            for person in people:
                assert person.cdms_pk is not None
                self.expected["Contact"].add(person.cdms_pk)
                self.parent[person.cdms_pk] = org.cdms_pk
            return multiple(*people)

        @rule(
            org=orgs,
            last=st.sampled_from(["Kay", "Orr"]),
            step=st.sampled_from(STEPS["bulk_update"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.just(1)),
        )
        def bulk_update_contacts(self, org, last, step, fault):
            if not self.alive(org, "Account"):
                return
            people = lambda failed=None: Contact.objects.filter(organisation=org).update(last_name=last)  # noqa: E731
            self.in_bulk((step, *fault), people)
            for _, last_name, parent in crm_contacts(crm).values():
                assert parent != org.cdms_pk or last_name == last

        @rule(
            org=orgs,
            step=st.sampled_from(STEPS["bulk_delete"]),
            fault=st.tuples(st.sampled_from(KINDS), st.booleans(), st.just(1)),
        )
        def bulk_delete_contacts(self, org, step, fault):
            if not self.alive(org, "Account"):
                return
            self.in_bulk((step, *fault), lambda failed=None: Contact.objects.filter(organisation=org).delete())
            for child in [c for c, parent in self.parent.items() if parent == org.cdms_pk]:
                self.expected["Contact"].discard(child)
                del self.parent[child]

        # Another CRM user.

        @rule(org=orgs, city=st.sampled_from(["Bath", "Ely"]))
        def other_user_edits(self, org, city):
            if crm.store.get("Account", org.cdms_pk) is not None:
                crm.store.update("Account", org.cdms_pk, {"Address1_City": city})
                self.dirty.add(org.cdms_pk)
                self.stale = True

        @rule(contact=contacts)
        def other_user_edits_a_contact(self, contact):
            if crm.store.get("Contact", contact.cdms_pk) is not None:
                crm.store.update("Contact", contact.cdms_pk, {"FirstName": f"Other {uuid.uuid4().hex[:6]}"})
                self.dirty.add(contact.cdms_pk)
                self.stale = True

        @rule(contact=contacts, org=orgs)
        def other_user_moves_a_contact(self, contact, org):
            alive = crm.store.get("Contact", contact.cdms_pk) and crm.store.get("Account", org.cdms_pk)
            if alive:
                parent = {"ParentCustomerId": {"Id": org.cdms_pk, "LogicalName": "account"}}
                crm.store.update("Contact", contact.cdms_pk, parent)
                self.dirty.add(contact.cdms_pk)
                self.stale = True
                self.parent[contact.cdms_pk] = org.cdms_pk

        @rule(org=consumes(orgs))
        def other_user_deletes(self, org):
            if crm.store.get("Account", org.cdms_pk) is not None:
                self.dirty |= {org.cdms_pk, *(c for c, parent in self.parent.items() if parent == org.cdms_pk)}
                self.stale = True
                crm.store.delete("Account", org.cdms_pk)
                self.forget_org(org.cdms_pk)

        @invariant()
        def both_sides_alike_and_nothing_lost(self):
            remote_orgs, remote_contacts = crm_orgs(crm), crm_contacts(crm)
            assert set(remote_orgs) == self.expected["Account"], "the CRM lost or kept an organisation"
            assert set(remote_contacts) == self.expected["Contact"], "the CRM lost or kept a contact"
            for local, remote in ((local_orgs(), remote_orgs), (local_contacts(), remote_contacts)):
                untouched = lambda rows: {k: v for k, v in rows.items() if k not in self.dirty}  # noqa: E731
                assert untouched(local) == untouched(remote), "before any read, local differs from the CRM"
            if self.stale:
                self.stale = False
                return
            list(Organisation.objects.all())
            list(Contact.objects.all())
            self.dirty = set()
            assert local_orgs() == remote_orgs and local_contacts() == remote_contacts
            names = [values[0] for values in remote_orgs.values()]
            assert len(names) == len(set(names)), "a record was created twice"

    return WriteModel


@pytest.mark.soak
@pytest.mark.django_db(transaction=True)
def test_writes_under_every_fault_stay_retryable_and_converge(cdms, settings_override):
    Steps.count = 0
    machine = make_machine(cdms)
    rounds = 0
    while True:
        options = settings(
            max_examples=8 if not STEP_TARGET else 50,
            stateful_step_count=10 if not STEP_TARGET else 25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=not STEP_TARGET,
        )
        run_state_machine_as_test(machine, settings=options)
        rounds += 1
        if Steps.count >= STEP_TARGET:
            break
    print(f"\nwrite model: {Steps.count} steps with faults in {rounds} rounds on {connections['default'].vendor}")
    assert Steps.count > 0


@pytest.fixture
def settings_override(settings):
    settings.CDMS_TIMEOUT = 0.3
    return settings
