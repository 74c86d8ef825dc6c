"""cdms_reconcile on a deliberately drifted pair: every kind of drift is reported, and --fix repairs it."""

import json

import pytest

from contact.models import Contact
from organisation.models import Organisation
from tests.crm_records import later, seed_account, seed_contact


@pytest.fixture
def drifted(cdms, run):
    """Five accounts imported, then: one deleted, one changed and one added in the CRM,
    one changed locally behind the CRM's back, and one local-only row."""
    keys = [seed_account(cdms, f"Org {i}") for i in range(5)]
    seed_contact(cdms, "Ann", "Lee", account=keys[0])
    run("cdms_import", "--full")
    cdms.store.delete("Account", keys[0])
    cdms.store.update("Account", keys[1], {"Name": "Renamed in the CRM"}, modified_on=later())
    added = seed_account(cdms, "Added in the CRM")
    local = Organisation.objects.skip_cdms().get(cdms_pk=keys[2])
    local.name, local.modified = "Changed locally", later(3600)
    local.save(skip_cdms=True)
    Organisation(name="Local only").save(skip_cdms=True)
    return {"deleted": keys[0], "stale": keys[1], "newer": keys[2], "added": added}


def test_report_names_every_kind_of_drift(drifted, run):
    report = json.loads(run("cdms_reconcile", "--json", "--entity", "Account"))
    account = report["entities"][0]
    assert account["missing_locally"] == [drifted["added"]]
    assert account["missing_in_crm"] == [drifted["deleted"]]
    assert account["stale"] == [drifted["stale"]]
    assert account["local_newer"] == [drifted["newer"]]
    assert (account["local_only"], account["crm_rows"], account["local_rows"], account["in_sync"]) == (
        1,
        5,
        6,
        False,
    )


def test_table_lists_the_drift(drifted, run):
    out = run("cdms_reconcile")
    assert out.splitlines()[0].split()[:3] == ["entity", "crm", "local"]
    assert f"Account local newer: {drifted['newer']}" in out
    assert "Run with --fix" in out


def test_fix_repairs_what_is_safe_and_lists_the_rest(drifted, run):
    out = run("cdms_reconcile", "--fix")
    assert "Account: imported 1, refreshed 1, removed 1." in out
    assert drifted["newer"] in out
    assert Organisation.objects.skip_cdms().get(cdms_pk=drifted["stale"]).name == "Renamed in the CRM"
    assert Organisation.objects.skip_cdms().filter(cdms_pk=drifted["added"]).exists()
    assert not Organisation.objects.skip_cdms().filter(cdms_pk=drifted["deleted"]).exists()
    # The CRM deleted the account's contact with it (a parental relationship); so does --fix.
    assert not Contact.objects.skip_cdms().exists()
    assert Organisation.objects.skip_cdms().get(cdms_pk=drifted["newer"]).name == "Changed locally"
    after = json.loads(run("cdms_reconcile", "--json", "--entity", "Account"))["entities"][0]
    assert (after["missing_locally"], after["missing_in_crm"], after["stale"]) == ([], [], [])
    assert after["local_newer"] == [drifted["newer"]]


def test_a_fresh_import_is_in_sync(cdms, run):
    cdms.store.seed_demo(20)
    run("cdms_import", "--full")
    assert "In sync." in run("cdms_reconcile")
