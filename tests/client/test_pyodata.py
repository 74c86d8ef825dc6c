"""A maintained OData v2 client nobody here wrote (SAP's pyodata) agrees with our stand-in CRM.

pyodata loads the emulator's `$metadata` (which needs an Association and an AssociationSet for
every navigation property), then lists, filters, pages through `__next`, gets by key, creates,
updates with MERGE, deletes, follows navigation properties and expands them.
"""

import datetime as dt

import pyodata
import pytest
import requests
from pyodata.exceptions import HttpError

from cdms_api.emulator.store import shipped_schema


@pytest.fixture
def service(crm):
    """A pyodata client of the emulator, asking for JSON as CRM 2011 clients must."""
    session = requests.Session()
    session.headers["Accept"] = "application/json"
    yield pyodata.Client(crm.service_root, session)
    session.close()


def test_pyodata_loads_the_metadata_with_every_association(service):
    names = {a.name for a in service.schema.associations}
    served = {n.name for e in shipped_schema() for n in e.navigations}
    assert names >= {"contact_customer_accounts", "account_primary_contact", "optevia_sector_sector"}
    assert {n for n in served if not n.startswith("Referenced")} <= names
    assert {s.name for s in service.schema.association_sets} == names
    account = service.schema.entity_type("Account")
    assert account.proprty("VersionNumber").typ.name == "Edm.Int64"
    assert account.proprty("AccountId").typ.name == "Edm.Guid"
    assert account.nav_proprty("contact_customer_accounts").to_role.entity_type_name == "Contact"
    parent = service.schema.entity_type("Contact").nav_proprty("contact_customer_accounts")
    assert parent.to_role.multiplicity == "0..1"


def test_pyodata_lists_and_filters(crm, service):
    for name, staff in [("Acme", 5), ("Beta", 50), ("acme two", 500)]:
        crm.store.insert("Account", {"Name": name, "NumberOfEmployees": staff})
    accounts = service.entity_sets.AccountSet
    assert sorted(a.Name for a in accounts.get_entities().execute()) == ["Acme", "Beta", "acme two"]
    found = accounts.get_entities().filter("startswith(Name, 'acme') and NumberOfEmployees gt 10").execute()
    assert [a.Name for a in found] == ["acme two"]
    ordered = accounts.get_entities().order_by("NumberOfEmployees desc").top(2).select("Name").execute()
    assert [a.Name for a in ordered] == ["acme two", "Beta"]


def test_pyodata_pages_through_next_links(crm, service):
    for n in range(120):
        crm.store.insert("Account", {"Name": f"Org {n:03}"})
    request = service.entity_sets.AccountSet.get_entities()
    page = request.execute()
    names, pages = [a.Name for a in page], 1
    while page.next_url:
        page = service.entity_sets.AccountSet.get_entities().next_url(page.next_url).execute()
        names += [a.Name for a in page]
        pages += 1
    assert pages == 3
    assert sorted(names) == [f"Org {n:03}" for n in range(120)]


def test_pyodata_gets_creates_merges_and_deletes(crm, service):
    accounts = service.entity_sets.AccountSet
    created = accounts.create_entity().set(Name="Acme", NumberOfEmployees=12).execute()
    key = created.AccountId
    assert crm.store.get("Account", str(key))["Name"] == "Acme"
    assert isinstance(created.ModifiedOn, dt.datetime) and created.VersionNumber > 0
    crm.stats.reset()
    accounts.update_entity(key, method="MERGE").set(Address1_City="York").execute()
    assert [method for method, _ in crm.stats.requests] == ["MERGE"]
    fetched = accounts.get_entity(key).execute()
    assert (fetched.Name, fetched.Address1_City, fetched.NumberOfEmployees) == ("Acme", "York", 12)
    assert fetched.VersionNumber > created.VersionNumber
    accounts.delete_entity(key).execute()
    assert crm.store.get("Account", str(key)) is None
    with pytest.raises(HttpError):
        accounts.get_entity(key).execute()


def test_pyodata_follows_and_expands_navigation_properties(crm, service):
    account = crm.store.insert("Account", {"Name": "Acme"})
    link = {"Id": account["AccountId"], "LogicalName": "account"}
    for last in ("Lee", "Ray"):
        crm.store.insert("Contact", {"LastName": last, "ParentCustomerId": link})
    contacts = service.entity_sets.AccountSet.get_entity(account["AccountId"]).nav("contact_customer_accounts")
    assert sorted(c.LastName for c in contacts.get_entities().execute()) == ["Lee", "Ray"]
    expanded = service.entity_sets.ContactSet.get_entities().expand("contact_customer_accounts").execute()
    assert {c.contact_customer_accounts.Name for c in expanded} == {"Acme"}
