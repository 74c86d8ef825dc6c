"""`$select`: only the named properties (no navigation links unless named), kept by `__next`, and
`navigation/Attribute` only for an expanded navigation property, as WCF Data Services answers."""

from cdms_api import crm_codes
from tests.emulator.wire import all_pages, assert_crm_error, get, results

ACCOUNT_SELECT = "AccountId,ModifiedOn,VersionNumber,Name"


def family(crm, contacts):
    account = crm.store.insert("Account", {"Name": "Acme", "Address1_City": "Leeds"})
    ref = {"Id": account["AccountId"], "LogicalName": "account"}
    for i in range(contacts):
        crm.store.insert("Contact", {"LastName": f"C{i:03}", "FirstName": "Ann", "ParentCustomerId": ref})
    return account


def test_a_whole_record_carries_navigation_links_and_a_selected_one_none(crm):
    family(crm, 0)
    whole = results(crm, "AccountSet")[0]
    assert whole["contact_customer_accounts"] == {
        "__deferred": {"uri": whole["__metadata"]["uri"] + "/contact_customer_accounts"}
    }
    narrow = results(crm, "AccountSet", {"$select": ACCOUNT_SELECT})[0]
    assert set(narrow) == {"__metadata", *ACCOUNT_SELECT.split(",")}


def test_one_record_by_key_with_select(crm):
    key = family(crm, 0)["AccountId"]
    record = get(crm, f"AccountSet(guid'{key}')", {"$select": ACCOUNT_SELECT}).json()["d"]
    assert set(record) == {"__metadata", *ACCOUNT_SELECT.split(",")}
    assert record["AccountId"] == key


def test_next_keeps_select_and_expand_so_every_page_is_as_narrow(crm):
    family(crm, 120)
    select = "ContactId,LastName,contact_customer_accounts/AccountId,contact_customer_accounts/Name"
    first = get(crm, "ContactSet", {"$select": select, "$expand": "contact_customer_accounts"}).json()["d"]
    assert "$select=" in first["__next"] and "$expand=contact_customer_accounts" in first["__next"]
    records, pages = all_pages(first["__next"])
    records += first["results"]
    assert (pages, len(records)) == (2, 120)
    assert {frozenset(r) for r in records} == {
        frozenset({"__metadata", "ContactId", "LastName", "contact_customer_accounts"})
    }
    parents = {frozenset(r["contact_customer_accounts"]) for r in records}
    assert parents == {frozenset({"__metadata", "AccountId", "Name"})}


def test_a_navigation_traversed_in_select_without_expand_is_400(crm):
    family(crm, 1)
    response = get(crm, "ContactSet", {"$select": "LastName,contact_customer_accounts/Name"})
    assert_crm_error(response, 400, crm_codes.BAD_REQUEST)
    assert "$expand" in response.json()["error"]["message"]["value"]
