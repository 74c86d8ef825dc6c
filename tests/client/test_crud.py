"""Create, read, update and delete against the emulator over HTTP."""

import uuid

import pytest

from cdms_api import odata
from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSBadRequestError, CDMSDuplicateKeyError, CDMSNotFoundError


def test_create_returns_the_full_record_with_server_fields(crm_client, crm):
    record = crm_client.create("Account", {"Name": "Acme", "NumberOfEmployees": 12})
    key = record["AccountId"]
    assert record["Name"] == "Acme" and record["NumberOfEmployees"] == 12
    assert odata.parse_date(record["CreatedOn"]) and odata.parse_date(record["ModifiedOn"])
    assert "Address1_City" in record and record["__metadata"]["type"].endswith(".Account")
    assert crm.store.get("Account", key)["Name"] == "Acme"


def test_create_with_a_client_key_puts_it_in_the_body(crm_client, crm):
    key = str(uuid.uuid4())
    record = crm_client.create("Account", {"Name": "Keyed"}, key=key.upper())
    assert record["AccountId"] == key
    assert crm.store.get("Account", key)["Name"] == "Keyed"


def test_a_second_create_with_the_same_key_is_a_duplicate(crm_client, crm):
    key = str(uuid.uuid4())
    crm_client.create("Account", {"Name": "First"}, key=key)
    with count_requests() as counter, pytest.raises(CDMSDuplicateKeyError) as raised:
        crm_client.create("Account", {"Name": "Second"}, key=key)
    assert counter.count == 1
    assert raised.value.status == 500 and raised.value.method == "POST"
    assert crm.store.get("Account", key)["Name"] == "First"


def test_get_by_key_and_with_select(crm_client, crm):
    key = crm.store.insert("Account", {"Name": "Acme", "Address1_City": "Leeds"})["AccountId"]
    assert crm_client.get("Account", key)["Address1_City"] == "Leeds"
    selected = crm_client.get("Account", key.upper(), select=["Name"])
    assert selected["Name"] == "Acme" and "Address1_City" not in selected


def test_get_of_a_missing_record_is_not_found(crm_client, crm):
    key = str(uuid.uuid4())
    with pytest.raises(CDMSNotFoundError) as raised:
        crm_client.get("Account", key)
    assert raised.value.status == 404 and raised.value.code == "-2147220969"
    assert key in raised.value.url


def test_update_merges_only_the_given_attributes(crm_client, crm):
    key = crm.store.insert("Account", {"Name": "Acme", "Address1_City": "Leeds"})["AccountId"]
    version = int(crm.store.get("Account", key)["VersionNumber"])
    crm.stats.requests.clear()
    assert crm_client.update("Account", key, {"Address1_City": "York"}) is None
    stored = crm.store.get("Account", key)
    assert (stored["Name"], stored["Address1_City"]) == ("Acme", "York")
    assert int(stored["VersionNumber"]) > version
    assert [method for method, _ in crm.stats.requests] == ["MERGE"]


def test_update_with_an_unknown_attribute_is_a_bad_request(crm_client, crm):
    key = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    with pytest.raises(CDMSBadRequestError) as raised:
        crm_client.update("Account", key, {"NoSuchAttribute": 1})
    assert raised.value.status == 400 and raised.value.method == "MERGE"


def test_delete_removes_the_record(crm_client, crm):
    key = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    assert crm_client.delete("Account", key) is None
    assert crm.store.get("Account", key) is None
    with pytest.raises(CDMSNotFoundError):
        crm_client.delete("Account", key)


def test_complex_values_round_trip(crm_client, crm):
    account = crm_client.create("Account", {"Name": "Parent", "Revenue": {"Value": "12.5000"}})
    contact = crm_client.create(
        "Contact",
        {"LastName": "O'Brien", "ParentCustomerId": {"Id": account["AccountId"], "LogicalName": "account"}},
    )
    assert contact["ParentCustomerId"]["Id"] == account["AccountId"]
    crm_client.update("Contact", contact["ContactId"], {"ParentCustomerId": {"Id": None, "LogicalName": None}})
    cleared = crm_client.get("Contact", contact["ContactId"])["ParentCustomerId"]
    assert cleared["Id"] is None
    assert crm_client.get("Account", account["AccountId"])["Revenue"]["Value"].startswith("12.5")


def test_a_filter_the_crm_cannot_run_is_a_bad_request(crm_client, crm):
    with pytest.raises(CDMSBadRequestError) as raised:
        list(crm_client.list("Account", filter="year(CreatedOn) eq 2016"))
    assert raised.value.status == 400 and raised.value.code == "-2147220989"
