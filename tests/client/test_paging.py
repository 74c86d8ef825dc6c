"""Listing: pages of 50 that follow `__next`, query options, and request counts."""

from cdms_api import odata
from cdms_api.counting import count_requests
from cdms_api.fields import StringField


def _insert(crm, n, **attrs):
    return [crm.store.insert("Account", {"Name": f"Firm {i:03d}", **attrs}) for i in range(n)]


def test_paging_through_120_records_takes_three_requests(crm_client, crm):
    _insert(crm, 120)
    crm.stats.requests.clear()
    with count_requests() as counter:
        pages = list(crm_client.list("Account"))
    assert [len(page) for page in pages] == [50, 50, 20]
    assert len({record["AccountId"] for page in pages for record in page}) == 120
    assert counter.count == 3 and len(crm.stats.requests) == 3
    assert {(r.method, r.entity_set, r.status) for r in counter.requests} == {("GET", "AccountSet", 200)}


def test_top_caps_the_total_across_pages(crm_client, crm):
    _insert(crm, 120)
    with count_requests() as counter:
        pages = list(crm_client.list("Account", top=70, select=["Name"]))
    assert [len(page) for page in pages] == [50, 20]
    assert counter.count == 2
    assert set(pages[0][0]) <= {"Name", "__metadata"}


def test_filter_orderby_skip(crm_client, crm):
    _insert(crm, 10, Address1_City="Leeds")
    _insert(crm, 5, Address1_City="York")
    name = StringField("Address1_City")
    pages = list(
        crm_client.list(
            "Account",
            filter=f"{name.filter_path} eq {name.literal('York')}",
            orderby=["Name desc"],
            skip=1,
        )
    )
    assert [r["Name"] for r in pages[0]] == ["Firm 003", "Firm 002", "Firm 001", "Firm 000"]


def test_empty_result_is_one_empty_page(crm_client, crm):
    assert list(crm_client.list("Account", filter=f"Name eq {odata.literal('nobody')}")) == [[]]


def test_expand_one_level(crm_client, crm):
    account = crm.store.insert("Account", {"Name": "Parent"})
    crm.store.insert(
        "Contact",
        {"LastName": "Kid", "ParentCustomerId": {"Id": account["AccountId"], "LogicalName": "account"}},
    )
    [page] = crm_client.list("Account", expand=["contact_customer_accounts"])
    children = page[0]["contact_customer_accounts"]
    children = children.get("results", children) if isinstance(children, dict) else children
    assert [child["LastName"] for child in children] == ["Kid"]
