"""Writing: create, MERGE, PUT, DELETE, validation, server-set attributes, concurrency, limits."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from cdms_api import crm_codes
from tests.emulator.wire import JSON, assert_crm_error, get, key_path, send


def create(crm, body, entity_set="AccountSet"):
    """POST a create and return the response."""
    return send(crm, "POST", entity_set, body)


def test_create_is_201_with_location_and_the_full_record(crm):
    response = create(crm, {"Name": "Acme", "NumberOfEmployees": 5})
    assert response.status_code == 201
    record = response.json()["d"]
    assert response.headers["Location"] == record["__metadata"]["uri"]
    assert record["Name"] == "Acme" and record["Address1_City"] is None
    assert record["CreatedOn"] == record["ModifiedOn"]
    assert uuid.UUID(record["AccountId"])


def test_create_accepts_an_empty_object(crm):
    assert create(crm, {}).status_code == 201
    assert crm.store.count("Account") == 1


def test_create_honours_a_client_supplied_key(crm):
    key = str(uuid.uuid4())
    assert create(crm, {"AccountId": key, "Name": "Acme"}).json()["d"]["AccountId"] == key
    assert crm.store.get("Account", key)["Name"] == "Acme"


def test_second_create_with_the_same_key_is_a_duplicate_key_error(crm):
    key = str(uuid.uuid4())
    create(crm, {"AccountId": key})
    message = assert_crm_error(create(crm, {"AccountId": key}), 500, crm_codes.DUPLICATE_KEY)
    assert message == crm_codes.DUPLICATE_KEY_MESSAGE
    assert crm.store.count("Account") == 1


def test_merge_by_tunnelled_post_changes_only_sent_attributes(crm):
    key = crm.store.insert("Account", {"Name": "Acme", "Address1_City": "Leeds"})["AccountId"]
    response = send(crm, "POST", key_path("AccountSet", key), {"Name": "Acme Ltd"}, {"X-HTTP-Method": "MERGE"})
    assert (response.status_code, response.content) == (204, b"")
    record = crm.store.get("Account", key)
    assert (record["Name"], record["Address1_City"]) == ("Acme Ltd", "Leeds")


def test_merge_verb_is_accepted(crm):
    key = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    assert send(crm, "MERGE", key_path("AccountSet", key), {"NumberOfEmployees": 3}).status_code == 204
    assert crm.store.get("Account", key)["NumberOfEmployees"] == 3


def test_put_replaces_the_whole_record(crm):
    key = crm.store.insert("Account", {"Name": "Acme", "Address1_City": "Leeds"})["AccountId"]
    assert send(crm, "PUT", key_path("AccountSet", key), {"Name": "New"}).status_code == 204
    record = crm.store.get("Account", key)
    assert (record["Name"], record["Address1_City"], record["StateCode"]) == ("New", None, {"Value": 0})


def test_merge_of_unknown_record_is_404(crm):
    response = send(crm, "MERGE", key_path("AccountSet", str(uuid.uuid4())), {"Name": "x"})
    assert_crm_error(response, 404, crm_codes.NOT_FOUND)


def test_unknown_property_is_400_naming_it(crm):
    message = assert_crm_error(create(crm, {"Nmae": "Acme"}), 400, crm_codes.BAD_REQUEST)
    assert "Nmae" in message


def test_wrong_json_type_is_400_naming_the_attribute(crm):
    for body in ({"NumberOfEmployees": "ten"}, {"optevia_ukorganisation": "yes"}, {"Name": 5}):
        message = assert_crm_error(create(crm, body), 400, crm_codes.BAD_REQUEST)
        assert next(iter(body)) in message
    assert crm.store.count("Account") == 0


def test_body_that_is_not_a_json_object_is_400(crm):
    url = f"{crm.service_root}/AccountSet"
    response = requests.post(
        url, data=b"{not json", headers={**JSON, "Content-Type": "application/json"}, timeout=5
    )
    assert_crm_error(response, 400, crm_codes.BAD_REQUEST)


def test_empty_string_is_stored_as_null(crm):
    record = create(crm, {"Name": "", "EMailAddress1": ""}).json()["d"]
    assert (record["Name"], record["EMailAddress1"]) == (None, None)


def test_lookup_can_be_set_and_cleared(crm):
    account = crm.store.insert("Account", {"Name": "Acme"})
    ref = {"Id": account["AccountId"], "LogicalName": "account"}
    key = create(crm, {"ParentCustomerId": ref}, "ContactSet").json()["d"]["ContactId"]
    assert crm.store.get("Contact", key)["ParentCustomerId"]["Name"] == "Acme"
    send(crm, "MERGE", key_path("ContactSet", key), {"ParentCustomerId": {"Id": None, "LogicalName": None}})
    assert crm.store.get("Contact", key)["ParentCustomerId"]["Id"] is None


def test_lookup_to_a_missing_record_is_400(crm):
    body = {"ParentCustomerId": {"Id": str(uuid.uuid4()), "LogicalName": "account"}}
    assert_crm_error(create(crm, body, "ContactSet"), 400, crm_codes.BAD_REQUEST)


def test_server_sets_modified_on_and_bumps_version_number(crm):
    old = crm.store.insert("Account", {"Name": "Acme"}, modified_on="/Date(1451606400000)/")
    send(crm, "MERGE", key_path("AccountSet", old["AccountId"]), {"Name": "Acme 2", "ModifiedOn": "/Date(0)/"})
    new = crm.store.get("Account", old["AccountId"])
    assert int(new["VersionNumber"]) > int(old["VersionNumber"])
    assert int(new["ModifiedOn"][6:-2]) // 1000 >= int(time.time()) - 5
    assert new["ModifiedOn"].endswith("000)/")
    assert new["CreatedOn"] == old["CreatedOn"]


def test_delete_by_verb_and_by_tunnelled_post(crm):
    first, second = (crm.store.insert("Account", {})["AccountId"] for _ in range(2))
    assert send(crm, "DELETE", key_path("AccountSet", first)).status_code == 204
    tunnelled = send(crm, "POST", key_path("AccountSet", second), None, {"X-HTTP-Method": "DELETE"})
    assert (tunnelled.status_code, tunnelled.content) == (204, b"")
    assert crm.store.count("Account") == 0


def test_delete_of_unknown_record_is_404(crm):
    assert_crm_error(send(crm, "DELETE", key_path("AccountSet", str(uuid.uuid4()))), 404, crm_codes.NOT_FOUND)


def test_deleting_an_account_deletes_its_contacts_as_crm_2011_does(crm):
    account = crm.store.insert("Account", {"Name": "Acme"})
    other = crm.store.insert("Account", {"Name": "Other"})
    child = crm.store.insert("Contact", {"ParentCustomerId": {"Id": account["AccountId"]}})
    grandchild = crm.store.insert(
        "Contact", {"ParentCustomerId": {"Id": child["ContactId"], "LogicalName": "contact"}}
    )
    stranger = crm.store.insert("Contact", {"ParentCustomerId": {"Id": other["AccountId"]}})
    assert send(crm, "DELETE", key_path("AccountSet", account["AccountId"])).status_code == 204
    assert crm.store.get("Contact", child["ContactId"]) is None
    # A contact's contact is a referential link: cleared, as an update the follower can see.
    left = crm.store.get("Contact", grandchild["ContactId"])
    assert left["ParentCustomerId"]["Id"] is None
    assert left["ModifiedOn"] >= grandchild["ModifiedOn"]
    assert int(left["VersionNumber"]) > int(grandchild["VersionNumber"])
    assert crm.store.get("Contact", stranger["ContactId"])["ParentCustomerId"]["Id"] == other["AccountId"]


def test_a_referential_emulator_unlinks_contacts_and_moves_their_modified_on():
    from cdms_api.emulator.store import Store

    store = Store(cascade="referential")
    account = store.insert("Account", {"Name": "Acme"})
    contact = store.insert("Contact", {"ParentCustomerId": {"Id": account["AccountId"]}})
    store.delete("Account", account["AccountId"])
    left = store.get("Contact", contact["ContactId"])
    assert left["ParentCustomerId"]["Id"] is None and int(left["VersionNumber"]) > int(contact["VersionNumber"])


def test_concurrent_merges_of_one_record_are_all_applied(crm):
    key = crm.store.insert("Account", {})["AccountId"]
    before = int(crm.store.get("Account", key)["VersionNumber"])
    fields = ["Name", "optevia_Alias", "EMailAddress1", "Address1_City", "Address1_PostalCode", "Telephone1"]

    def merge(field):
        return send(crm, "MERGE", key_path("AccountSet", key), {field: f"v{len(field)}"}).status_code

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(merge, fields)) == [204] * 6
    record = crm.store.get("Account", key)
    assert all(record[f] == f"v{len(f)}" for f in fields)
    assert int(record["VersionNumber"]) == before + 6


def test_body_over_4_mb_is_413(crm):
    response = create(crm, {"Description": "x" * (4 * 1024 * 1024 + 10)})
    assert_crm_error(response, 413, crm_codes.PAYLOAD_TOO_LARGE)


def test_wrong_verb_on_a_path_is_405(crm):
    key = crm.store.insert("Account", {})["AccountId"]
    assert_crm_error(send(crm, "DELETE", "AccountSet"), 405, crm_codes.METHOD_NOT_ALLOWED)
    assert_crm_error(send(crm, "POST", key_path("AccountSet", key), {}), 405, crm_codes.METHOD_NOT_ALLOWED)
    response = send(crm, "PATCH", key_path("AccountSet", key), {})
    assert_crm_error(response, 405, crm_codes.METHOD_NOT_ALLOWED)
    assert "MERGE" in response.headers["Allow"]


def test_contact_full_name_is_computed(crm):
    record = create(crm, {"FirstName": "Ann", "LastName": "Lee"}, "ContactSet").json()["d"]
    assert record["FullName"] == "Ann Lee"


def test_read_only_attributes_in_a_body_are_ignored(crm):
    response = create(crm, {"Name": "A", "CreatedOn": "/Date(0)/", "VersionNumber": 1})
    assert response.json()["d"]["CreatedOn"] != "/Date(0)/"
    assert get(crm, "AccountSet").json()["d"]["results"][0]["Name"] == "A"
