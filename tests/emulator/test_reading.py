"""Reading collections: JSON negotiation, paging, `$top`, `$skip`, `$select`, `$orderby`, `$expand`."""

import uuid

import pytest

from cdms_api import crm_codes
from tests.emulator.wire import all_pages, assert_crm_error, get, results


def add_accounts(crm, n, **attrs):
    """Insert `n` accounts named Org 000.. through the store; returns their keys."""
    return [crm.store.insert("Account", {"Name": f"Org {i:03}", **attrs})["AccountId"] for i in range(n)]


def test_json_only_when_accept_asks_for_it(crm):
    add_accounts(crm, 1)
    response = get(crm, "AccountSet", headers={"Accept": "application/atom+xml"})
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    assert response.text.startswith("<?xml")
    assert "<d:Name>Org 000</d:Name>" in response.text


def test_no_accept_header_answers_atom(crm):
    response = get(crm, "AccountSet", headers={"Accept": ""})
    assert response.headers["Content-Type"].startswith("application/atom+xml")


def test_unsupported_media_type_is_415(crm):
    response = get(crm, "AccountSet", headers={"Accept": "text/html"})
    assert response.status_code == 415
    assert "<code>" in response.text


def test_collection_shape_is_d_results(crm):
    add_accounts(crm, 2)
    body = get(crm, "AccountSet").json()
    assert set(body["d"]) == {"results"}
    assert len(body["d"]["results"]) == 2


def test_pages_of_50_with_absolute_next_keeping_other_options(crm):
    add_accounts(crm, 120)
    body = get(crm, "AccountSet", {"$select": "Name", "$filter": "startswith(Name,'Org')"}).json()["d"]
    assert len(body["results"]) == 50
    nxt = body["__next"]
    assert nxt.startswith(crm.service_root + "/AccountSet?")
    assert "$select=Name" in nxt and "$skiptoken=" in nxt and "startswith" in nxt


def test_following_next_returns_every_record_once_and_no_next_on_last_page(crm):
    keys = add_accounts(crm, 120)
    records, pages = all_pages(f"{crm.service_root}/AccountSet")
    assert pages == 3
    assert sorted(r["AccountId"] for r in records) == sorted(keys)


def test_exact_multiple_of_page_size_has_no_empty_last_page(crm):
    add_accounts(crm, 100)
    records, pages = all_pages(f"{crm.service_root}/AccountSet")
    assert (len(records), pages) == (100, 2)


def test_skiptoken_is_a_keyset_position_stable_under_inserts_and_deletes(crm):
    add_accounts(crm, 100)
    first = get(crm, "AccountSet", {"$orderby": "Name"}).json()["d"]
    seen = [r["Name"] for r in first["results"]]
    crm.store.delete("Account", first["results"][0]["AccountId"])
    crm.store.insert("Account", {"Name": "Org 000a"})  # sorts before the page boundary
    second, _ = all_pages(first["__next"])
    assert [r["Name"] for r in second] == [f"Org {i:03}" for i in range(50, 100)]
    assert seen[-1] == "Org 049"


def test_skiptoken_paging_respects_descending_order_and_nulls(crm):
    add_accounts(crm, 30)
    for _ in range(30):
        crm.store.insert("Account", {})
    crm.page_size = 7
    try:
        records, _ = all_pages(f"{crm.service_root}/AccountSet?$orderby=Name%20desc")
    finally:
        crm.page_size = 50
    names = [r["Name"] for r in records]
    assert names[:30] == [f"Org {i:03}" for i in reversed(range(30))]
    assert names[30:] == [None] * 30
    assert len({r["AccountId"] for r in records}) == 60


def test_top_caps_the_total_across_pages(crm):
    add_accounts(crm, 130)
    first = get(crm, "AccountSet", {"$top": "120"}).json()["d"]
    records, pages = all_pages(first["__next"])
    assert [len(first["results"]), len(records), pages] == [50, 70, 2]


def test_top_below_page_size_has_no_next(crm):
    add_accounts(crm, 60)
    body = get(crm, "AccountSet", {"$top": "10"}).json()["d"]
    assert len(body["results"]) == 10 and "__next" not in body


def test_skip_beyond_5000_is_the_paging_limit_error(crm):
    response = get(crm, "AccountSet", {"$skip": "4990", "$top": "20"})
    message = assert_crm_error(response, 500, crm_codes.PAGING_LIMIT)
    assert message == crm_codes.PAGING_LIMIT_MESSAGE


def test_skip_within_5000_is_an_offset(crm):
    add_accounts(crm, 10)
    names = [r["Name"] for r in results(crm, "AccountSet", {"$skip": "7", "$orderby": "Name"})]
    assert names == ["Org 007", "Org 008", "Org 009"]


def test_skip_past_the_end_is_an_empty_page(crm):
    add_accounts(crm, 3)
    assert results(crm, "AccountSet", {"$skip": "10"}) == []


def test_select_returns_only_named_properties_without_the_key(crm):
    add_accounts(crm, 1)
    record = results(crm, "AccountSet", {"$select": "Name,NumberOfEmployees"})[0]
    assert set(record) == {"__metadata", "Name", "NumberOfEmployees"}


def test_orderby_on_root_attributes_with_direction(crm):
    for name, employees in [("b", 1), ("a", 1), ("c", 2)]:
        crm.store.insert("Account", {"Name": name, "NumberOfEmployees": employees})
    records = results(crm, "AccountSet", {"$orderby": "NumberOfEmployees desc,Name"})
    assert [r["Name"] for r in records] == ["c", "a", "b"]


def test_orderby_on_a_member_path_is_400(crm):
    assert_crm_error(get(crm, "AccountSet", {"$orderby": "StateCode/Value"}), 400, crm_codes.BAD_REQUEST)


def test_without_orderby_results_are_in_primary_key_order(crm):
    keys = [str(uuid.uuid4()) for _ in range(20)]
    for key in keys:
        crm.store.insert("Account", {"AccountId": key})
    assert [r["AccountId"] for r in results(crm, "AccountSet")] == sorted(keys)


def test_string_ordering_is_case_and_accent_insensitive(crm):
    for name in ["b", "Á", "a", "C"]:
        crm.store.insert("Account", {"Name": name})
    names = [r["Name"] for r in results(crm, "AccountSet", {"$orderby": "Name"})]
    assert [n.lower() for n in names[2:]] == ["b", "c"]
    assert set(names[:2]) == {"a", "Á"}


def test_expand_single_and_collection_one_level(crm):
    account = crm.store.insert("Account", {"Name": "Acme"})
    ref = {"Id": account["AccountId"], "LogicalName": "account"}
    crm.store.insert("Contact", {"LastName": "Smith", "ParentCustomerId": ref})
    contact = results(crm, "ContactSet", {"$expand": "contact_customer_accounts"})[0]
    assert contact["contact_customer_accounts"]["Name"] == "Acme"
    acc = results(crm, "AccountSet", {"$expand": "contact_customer_accounts"})[0]
    assert [c["LastName"] for c in acc["contact_customer_accounts"]["results"]] == ["Smith"]


def test_expand_with_nested_select(crm):
    account = crm.store.insert("Account", {"Name": "Acme"})
    crm.store.insert("Contact", {"LastName": "Smith", "ParentCustomerId": {"Id": account["AccountId"]}})
    params = {"$expand": "contact_customer_accounts", "$select": "LastName,contact_customer_accounts/Name"}
    contact = results(crm, "ContactSet", params)[0]
    assert set(contact["contact_customer_accounts"]) == {"__metadata", "Name"}


def test_expanded_collections_are_capped_at_50(crm):
    account = crm.store.insert("Account", {"Name": "Big"})
    for i in range(55):
        crm.store.insert("Contact", {"LastName": f"C{i}", "ParentCustomerId": {"Id": account["AccountId"]}})
    acc = results(crm, "AccountSet", {"$expand": "contact_customer_accounts"})[0]
    assert len(acc["contact_customer_accounts"]["results"]) == 50


@pytest.mark.parametrize(
    "expand",
    [",".join(["contact_customer_accounts"] * 7), "contact_customer_accounts/OwnerId", "Name", "nosuch"],
)
def test_expand_beyond_six_or_deeper_than_one_level_is_400(crm, expand):
    assert_crm_error(get(crm, "AccountSet", {"$expand": expand}), 400, crm_codes.BAD_REQUEST)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("AccountSet", {"$format": "json"}),
        ("AccountSet", {"$inlinecount": "allpages"}),
        ("AccountSet/$count", None),
        ("AccountSet", {"$top": "-1"}),
        ("AccountSet", {"$skiptoken": "garbage"}),
    ],
)
def test_unsupported_options_are_400(crm, path, params):
    assert_crm_error(get(crm, path, params), 400, crm_codes.BAD_REQUEST)
