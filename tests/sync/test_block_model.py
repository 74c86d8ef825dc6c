"""A stateful model of atomic() blocks: the CRM holds exactly what committed, after every step.

Hypothesis drives random blocks of up to four writes (create, update and delete organisations,
create contacts of them) that end in one of three ways: the block commits; the block raises
after its writes (a caller's own failure); or its last writes run in an inner savepoint that
rolls back, and the block commits. A CRM fault may hit one write (a refusal, an unavailable
CRM, or an answer lost after the CRM performed it), which rolls its block (or savepoint) back
when the write fails. When a block raises, a fault may also hit its undo: the intents are then
left for the follower, whose settlement runs once, without faults, after the step. Another CRM
user edits, creates and deletes organisations between blocks, and edits one inside a block
(after which an undo of that record must keep their change: a conflict).

After every step the CRM's organisations (key and city) and contacts (key and organisation)
are exactly the model's: the writes of committed blocks and savepoints, and the other user's
changes; a read then makes the local tables equal the CRM. `make test` runs 6 fixed histories
of up to 8 steps; `BLOCK_MODEL_STEPS=500` runs random histories until that many blocks ran
(`SOAK=1`: 300), and prints how many ran.
"""

import os
import uuid

import pytest
from django.db import connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from cdms_api.exceptions import CDMSError
from contact.models import Contact
from migrator.mirror import journal
from migrator.mirror.intents import settle_left_over
from organisation.models import Organisation
from tests.crm_records import seed_account
from tests.sync.test_caller_transaction import accounts, contacts

STEP_TARGET = int(os.environ.get("BLOCK_MODEL_STEPS") or (300 if os.environ.get("SOAK") else 0))
CITIES = ["York", "Hull", "Leeds"]
OPS = st.tuples(
    st.sampled_from(["create", "update", "delete", "contact", "other"]), st.integers(0, 9), st.sampled_from(CITIES)
)
FAULTS = st.none() | st.tuples(st.sampled_from(["status-400", "status-503", "lost"]), st.integers(0, 3))
WRITE_METHOD = {"create": "POST", "contact": "POST", "update": "MERGE", "delete": "DELETE"}


class Boom(Exception):
    """The caller's own failure, after its writes."""


class Blocks:
    """How many blocks ran, across examples."""

    count = 0


class Level:
    """The model's changes made at one level of a block (the block, or its inner savepoint)."""

    def __init__(self, orgs, people):
        self.orgs, self.people = dict(orgs), dict(people)


def make_machine(crm):
    class BlockModel(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            crm.reset()
            crm.faults.clear()
            Contact.objects.skip_cdms().all().delete()
            Organisation.objects.skip_cdms().all().delete()
            journal.clear()
            self.orgs = {}  # committed: CRM key -> city
            self.people = {}  # committed: contact key -> organisation key
            self.others = {}  # records another user changed inside the current block, and how

        def pick(self, level, index):
            keys = sorted(level.orgs)
            return keys[index % len(keys)] if keys else None

        def write(self, level, op):
            """Run one write at `level`; the model follows only if it succeeded (it raises otherwise)."""
            kind, index, city = op
            key = self.pick(level, index)
            if kind == "create":
                org = Organisation.objects.create(name=f"Org {uuid.uuid4().hex[:6]}", city=city)
                level.orgs[org.cdms_pk] = city
            elif kind == "update" and key:
                org = Organisation.objects.get(cdms_pk=key)
                org.city = city
                org.save()
                level.orgs[key] = city
            elif kind == "delete" and key:
                Organisation.objects.get(cdms_pk=key).delete()
                del level.orgs[key]
                level.people = {c: o for c, o in level.people.items() if o != key}
            elif kind == "contact" and key:
                person = Contact.objects.create(
                    first_name="Ann", organisation=Organisation.objects.get(cdms_pk=key)
                )
                level.people[person.cdms_pk] = key
            elif kind == "other" and key and key in self.orgs and key not in self.others:
                # Another CRM user, inside the block: their change stands whatever the block does.
                crm.store.update("Account", key, {"Address1_City": f"Other {city}"})
                self.others[key] = level.orgs[key] = f"Other {city}"

        def run(self, level, ops, fault):
            for n, op in enumerate(ops):
                if op[0] in ("update", "delete") and self.pick(level, op[1]) in self.others:
                    continue  # a write after the other user's change would overwrite it, by design
                if fault and fault[1] == n and op[0] in WRITE_METHOD:
                    kind = fault[0]
                    status = 503 if kind == "lost" else int(kind[7:])
                    crm.faults.add(kind="status", status=status, method=WRITE_METHOD[op[0]], after=kind == "lost")
                try:
                    self.write(level, op)
                finally:
                    crm.faults.clear()

        @rule(
            ops=st.lists(OPS, min_size=1, max_size=4),
            ending=st.sampled_from(["commit", "raise", "savepoint"]),
            fault=FAULTS,
            split=st.integers(0, 3),
            undo_fault=st.booleans(),
        )
        def block(self, ops, ending, fault, split, undo_fault):
            Blocks.count += 1
            self.others = {}
            outer = Level(self.orgs, self.people)
            committed = None
            try:
                with transaction.atomic():
                    self.run(outer, ops[:split] if ending == "savepoint" else ops, fault)
                    if ending == "savepoint":
                        inner = Level(outer.orgs, outer.people)
                        try:
                            with transaction.atomic():
                                self.run(inner, ops[split:], None)
                                raise Boom
                        except (Boom, CDMSError):
                            pass
                    if ending == "raise":
                        if undo_fault:
                            crm.faults.add(kind="status", status=503, count=8)  # past the retries of a GET
                        raise Boom
                committed = outer
            except (Boom, CDMSError):
                pass
            crm.faults.clear()
            if committed is not None:
                self.orgs, self.people = committed.orgs, committed.people
            self.orgs.update(self.others)  # the other user's changes stand, whatever the block did
            settle_left_over("default")  # the follower's next round, for undos the faults stopped

        @rule(
            index=st.integers(0, 9),
            city=st.sampled_from(CITIES),
            what=st.sampled_from(["edit", "delete", "create"]),
        )
        def other_user(self, index, city, what):
            key = self.pick(Level(self.orgs, self.people), index)
            if what == "create" or not key:
                self.orgs[seed_account(crm, f"Theirs {uuid.uuid4().hex[:6]}", Address1_City=city)] = city
            elif what == "edit":
                crm.store.update("Account", key, {"Address1_City": city})
                self.orgs[key] = city
            else:
                crm.store.delete("Account", key)
                del self.orgs[key]
                self.people = {c: o for c, o in self.people.items() if o != key}
            list(Organisation.objects.all())  # a read brings the change in before the next block
            list(Contact.objects.all())

        @invariant()
        def the_crm_holds_exactly_what_committed(self):
            remote_orgs = {key: r["Address1_City"] for key, r in accounts(crm).items()}
            remote_people = {key: r["ParentCustomerId"]["Id"].lower() for key, r in contacts(crm).items()}
            assert remote_orgs == self.orgs
            assert remote_people == self.people
            list(Organisation.objects.all())
            list(Contact.objects.all())
            local_orgs = {o.cdms_pk: o.city for o in Organisation.objects.skip_cdms()}
            local_people = {c.cdms_pk: c.organisation.cdms_pk for c in Contact.objects.skip_cdms()}
            assert (local_orgs, local_people) == (remote_orgs, remote_people)

    return BlockModel


@pytest.mark.soak
@pytest.mark.django_db(transaction=True)
def test_blocks_that_commit_or_roll_back_leave_the_crm_holding_exactly_what_committed(cdms, settings):
    settings.CDMS_TIMEOUT = 0.5
    Blocks.count = 0
    machine = make_machine(cdms)
    while True:
        options = settings_for_run()
        run_state_machine_as_test(machine, settings=options)
        if Blocks.count >= STEP_TARGET:
            break
    print(f"\nblock model: {Blocks.count} blocks on {connections['default'].vendor}")
    assert Blocks.count > 0


def settings_for_run():
    return settings(
        max_examples=6 if not STEP_TARGET else 40,
        stateful_step_count=8 if not STEP_TARGET else 20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=not STEP_TARGET,
    )
