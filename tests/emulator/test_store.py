"""The in-process store API and demo seeding."""

from datetime import UTC, datetime

import pytest

from cdms_api.emulator.errors import CRMError
from cdms_api.emulator.store import Store


def test_insert_with_given_timestamps_and_update_with_given_modified_on(crm):
    when = datetime(2016, 1, 1, tzinfo=UTC)
    record = crm.store.insert("Account", {"Name": "A"}, created_on=when, modified_on=when)
    assert record["CreatedOn"] == record["ModifiedOn"] == "/Date(1451606400000)/"
    later = datetime(2016, 2, 1, 12, 0, 0, 500000)
    updated = crm.store.update("Account", record["AccountId"], {"Name": "B"}, modified_on=later)
    assert updated["ModifiedOn"] == "/Date(1454328000000)/"
    assert int(updated["VersionNumber"]) > int(record["VersionNumber"])


def test_get_delete_and_count(crm):
    key = crm.store.insert("Contact", {"LastName": "X"})["ContactId"]
    assert crm.store.count("Contact") == 1
    crm.store.delete("Contact", key)
    assert crm.store.get("Contact", key) is None
    assert crm.store.count("Contact") == 0


def test_store_rejects_unknown_entity_and_attribute(crm):
    with pytest.raises(CRMError):
        crm.store.insert("Widget", {})
    with pytest.raises(CRMError):
        crm.store.insert("Account", {"Bogus": 1})


def test_seed_demo_is_repeatable_and_links_contacts():
    first, second = Store(), Store()
    first.seed_demo(20, seed=7)
    second.seed_demo(20, seed=7)
    rows = "SELECT Name, AccountId FROM Account ORDER BY AccountId"
    assert [tuple(r) for r in first.select(rows)] == [tuple(r) for r in second.select(rows)]
    assert first.count("Account") == 20
    linked = first.select("SELECT COUNT(*) FROM Contact WHERE ParentCustomerId IS NOT NULL")[0][0]
    assert linked == first.count("Contact") > 20


def test_data_file_persists_across_restarts(tmp_path):
    path = str(tmp_path / "crm.sqlite3")
    store = Store(path)
    key = store.insert("Account", {"Name": "Kept"})["AccountId"]
    store.close()
    reopened = Store(path)
    assert reopened.get("Account", key)["Name"] == "Kept"
    kept = int(reopened.get("Account", key)["VersionNumber"])
    assert int(reopened.insert("Account", {})["VersionNumber"]) > kept
