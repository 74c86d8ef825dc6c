"""A stateful model of writes under faults: every fault of the emulator, at every step of a write.

Hypothesis drives random sequences of creates, updates and deletes of organisations (single
and in bulk), each
with one fault armed at one of its steps (the POST, the MERGE, the GET after it, the DELETE,
the look-up of a lost create, a compensation, or the local write after the CRM accepted),
interleaved with another CRM user's edits and deletions. Properties:
- a call that fails leaves the instance as it was (pk, `_state.adding`, cdms_pk, values,
  change tracking), and the same call, retried without faults, succeeds (or finds the
  record deleted by the other user);
- after the next read, the local table equals the CRM, with no record made twice.

`make test` runs a few examples; `SOAK=1` runs many (see tests/soak/).
"""

import os

import pytest
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

from cdms_api.exceptions import CDMSError, CDMSNotFoundError
from migrator.connection import get_client
from migrator.exceptions import BulkWriteError
from migrator.write import writer as writes
from migrator.write.snapshot import capture_state
from organisation.models import Organisation

KINDS = ["status-503", "status-500", "status-400", "hang", "html", "cut"]
# Where faults are armed, per write: the CRM request that fails first, and (after "+") one more
# armed when the first has failed, which hits the look-up of a lost create or a compensation.
# "local": the local write after the CRM accepted fails.
STEPS = {
    "create": ["POST", "POST+GET", "POST+DELETE", "local", "local+DELETE"],
    "update": ["MERGE", "GET", "local", "local+MERGE"],
    "delete": ["DELETE", "DELETE+GET"],
}
EXAMPLES = 200 if os.environ.get("SOAK") else 12


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


def make_machine(crm):
    """The state machine class, bound to the test's emulator."""

    class WriteModel(RuleBasedStateMachine):
        saved = Bundle("saved")

        def __init__(self):
            super().__init__()
            crm.reset()
            Organisation.objects.skip_cdms().all().delete()
            self.serial = 0
            self.fail_local = False
            self.second = None
            self.store = writes.store
            writes.store = self._store

        def teardown(self):
            writes.store = self.store
            crm.faults.clear()

        def _store(self, *args):
            if self.fail_local:
                self.fail_local = False
                self.arm_second()
                raise LocalFailure("disk full")
            return self.store(*args)

        def arm_second(self):
            if self.second:
                arm(crm, self.kind, self.second, self.after, self.count)

        def attempt(self, operation, instance, step, kind, after, count, call):
            """Run `call` with the faults armed; check a failure leaves the instance retryable."""
            before = capture_state(instance)
            first, _, self.second = step.partition("+")
            self.kind, self.after, self.count = kind, after, count
            if first == "local":
                self.fail_local = True
            else:
                arm(crm, kind, first, after, count)
                self.arm_second()
            try:
                call()
            except (CDMSError, LocalFailure):
                crm.faults.clear()
                self.fail_local = False
                assert capture_state(instance) == before, f"{operation} left the instance changed"
                try:
                    call()  # retried as is, without faults
                except CDMSNotFoundError:
                    assert operation == "update", "only the other CRM user's deletion may stop a retry"
                    return False
            finally:
                crm.faults.clear()
                self.fail_local = False
            return True

        @rule(
            target=saved,
            step=st.sampled_from(STEPS["create"]),
            kind=st.sampled_from(KINDS),
            after=st.booleans(),
            count=st.sampled_from([1, 10]),
        )
        def create(self, step, kind, after, count):
            self.serial += 1
            org = Organisation(name=f"Firm {self.serial}", city="Leeds")
            self.attempt("create", org, step, kind, after, count, org.save)
            assert org.pk is not None and org.cdms_pk is not None
            return org

        @rule(
            org=saved,
            city=st.sampled_from(["York", "Hull", ""]),
            step=st.sampled_from(STEPS["update"]),
            kind=st.sampled_from(KINDS),
            after=st.booleans(),
            count=st.sampled_from([1, 10]),
        )
        def update(self, org, city, step, kind, after, count):
            org.city = city
            org.number_of_employees = (org.number_of_employees or 0) + 1
            self.attempt("update", org, step, kind, after, count, org.save)

        @rule(
            org=consumes(saved),
            step=st.sampled_from(STEPS["delete"]),
            kind=st.sampled_from(KINDS),
            after=st.booleans(),
            count=st.sampled_from([1, 10]),
        )
        def delete(self, org, step, kind, after, count):
            self.attempt("delete", org, step, kind, after, count, org.delete)
            assert crm.store.get("Account", org.cdms_pk) is None if org.cdms_pk else True

        @rule(
            target=saved,
            step=st.sampled_from(["POST", "POST+GET"]),
            kind=st.sampled_from(KINDS),
            after=st.booleans(),
        )
        def bulk_create(self, step, kind, after):
            orgs = [Organisation(name=f"Firm {self.serial + i}", city="Leeds") for i in range(1, 4)]
            self.serial += 3
            first, _, second = step.partition("+")
            arm(crm, kind, first, after, 1)
            if second:
                arm(crm, kind, second, after, 10)
            try:
                Organisation.objects.bulk_create(orgs)
            except BulkWriteError as exc:
                crm.faults.clear()
                failed = [obj for obj, _ in exc.failures]
                assert all(obj.pk is None and obj.cdms_pk is None for obj in failed)
                assert len(failed) + len(exc.succeeded) == len(orgs)
                Organisation.objects.bulk_create(failed)  # retried as they are
            finally:
                crm.faults.clear()
            assert all(obj.pk is not None and obj.cdms_pk is not None for obj in orgs)
            return multiple(*orgs)

        @rule(
            city=st.sampled_from(["Derby", "Leeds"]),
            step=st.sampled_from(["MERGE", "GET"]),
            kind=st.sampled_from(KINDS),
            after=st.booleans(),
        )
        def bulk_update(self, city, step, kind, after):
            arm(crm, kind, step, after, 1)
            try:
                Organisation.objects.all().update(city=city)
            except BulkWriteError as exc:
                assert all(isinstance(obj, Organisation) for obj, _ in exc.failures)
            except CDMSError:
                pass  # the re-read failed: the whole update was compensated
            finally:
                crm.faults.clear()
            try:
                Organisation.objects.all().update(city=city)  # retried without faults
            except BulkWriteError as exc:
                assert all(isinstance(error, CDMSNotFoundError) for _, error in exc.failures)

        @rule(org=saved, city=st.sampled_from(["Bath", "Ely"]))
        def other_user_edits(self, org, city):
            if crm.store.get("Account", org.cdms_pk) is not None:
                crm.store.update("Account", org.cdms_pk, {"Address1_City": city})

        @rule(org=consumes(saved))
        def other_user_deletes(self, org):
            if crm.store.get("Account", org.cdms_pk) is not None:
                crm.store.delete("Account", org.cdms_pk)

        @invariant()
        def local_equals_crm_after_a_read(self):
            list(Organisation.objects.all())
            local = sorted(
                (key, name, city, employees)
                for key, name, city, employees in Organisation.objects.skip_cdms().values_list(
                    "cdms_pk", "name", "city", "number_of_employees"
                )
            )
            records = [r for page in get_client().list("Account") for r in page]
            remote = sorted(
                (r["AccountId"].lower(), r["Name"] or "", r["Address1_City"] or "", r["NumberOfEmployees"])
                for r in records
            )
            assert local == remote
            names = [r["Name"] for r in records]
            assert len(names) == len(set(names)), "a record was created twice"

    return WriteModel


@pytest.mark.soak
@pytest.mark.django_db(transaction=True)
def test_writes_under_every_fault_stay_retryable_and_converge(cdms, settings_override):
    options = settings(
        max_examples=EXAMPLES, stateful_step_count=8, deadline=None, suppress_health_check=list(HealthCheck)
    )
    run_state_machine_as_test(make_machine(cdms), settings=options)


@pytest.fixture
def settings_override(settings):
    settings.CDMS_TIMEOUT = 0.3
    return settings
