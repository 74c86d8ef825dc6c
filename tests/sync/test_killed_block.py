"""A process killed anywhere in a multi-write block: one follower round later, both sides hold what committed.

The block (`block_worker`) creates an organisation and a contact of it, moves another
organisation to York and deletes a third with its two contacts: four CRM writes. The worker
kills itself before and after each write, before the commit and after it. Whatever committed
locally stays in the CRM; whatever did not is undone there by the follower's next round, from
the intents the worker recorded before each write.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from contact.models import Contact
from migrator.mirror import journal
from migrator.mirror.follower import follow
from migrator.mirror.sweep import sweep
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact
from tests.subprocesses import database_url
from tests.sync.test_caller_transaction import accounts, contacts

ROOT = Path(__file__).resolve().parents[2]
STEPS = [*(f"{when}-write-{n}" for n in range(1, 5) for when in ("before", "after")), "before-commit"]


def crm_state(crm):
    orgs = {key: (r["Name"], r["Address1_City"]) for key, r in accounts(crm).items()}
    people = {key: (r["FirstName"], (r["ParentCustomerId"] or {}).get("Id")) for key, r in contacts(crm).items()}
    return orgs, people


def local_state():
    orgs = {o.cdms_pk: (o.name, o.city or None) for o in Organisation.objects.skip_cdms()}
    people = {
        c.cdms_pk: (c.first_name, c.organisation.cdms_pk if c.organisation else None)
        for c in Contact.objects.skip_cdms().select_related("organisation")
    }
    return orgs, people


def run_block(crm, step, existing, doomed):
    env = {**os.environ, "DATABASE_URL": database_url(), "CDMS_BASE_URL": crm.base_url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.sync.block_worker", step, existing, doomed],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc


def wait_for_dead_transactions():
    """PostgreSQL rolls a killed client's transaction back once it sees the socket close; wait for that."""
    if connection.vendor != "postgresql":
        return
    for _ in range(100):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


def one_round():
    for model in (Organisation, Contact):
        follow(model, "test-round")
    for model in (Organisation, Contact):
        sweep(model, "test-round", partitions=1)


@pytest.fixture
def world(cdms):
    """An organisation to move and one to delete (with two contacts), made in the CRM and read in."""
    existing = seed_account(cdms, "Existing", Address1_City="Leeds")
    doomed = seed_account(cdms, "Doomed")
    seed_contact(cdms, "Ann", account=doomed)
    seed_contact(cdms, "Bob", account=doomed)
    one_round()
    return existing, doomed


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", STEPS)
def test_a_block_killed_before_its_commit_is_undone_by_one_follower_round(world, cdms, step):
    existing, doomed = world
    before = crm_state(cdms)
    assert local_state() == before
    proc = run_block(cdms, step, existing, doomed)
    assert proc.returncode == -9, proc.stderr
    wait_for_dead_transactions()
    one_round()
    assert crm_state(cdms) == before
    assert local_state() == before
    assert journal.claim_left_over("default") == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", ["after-commit", "never"])
def test_a_block_that_committed_keeps_every_write_after_one_follower_round(world, cdms, step):
    existing, doomed = world
    proc = run_block(cdms, step, existing, doomed)
    assert proc.returncode == (-9 if step == "after-commit" else 0), proc.stderr
    wait_for_dead_transactions()
    one_round()
    orgs, people = crm_state(cdms)
    assert doomed not in orgs and orgs[existing] == ("Existing", "York")
    assert sorted(orgs.values()) == [("Existing", "York"), ("Made in the block", None)]
    assert [first for first, _ in people.values()] == ["Made"]
    assert local_state() == (orgs, people)
    assert journal.claim_left_over("default") == []
