"""URLs and records: entity sets, keys, `__metadata`, complex values and deferred navigation."""

import re

from cdms_api import crm_codes
from tests.emulator.wire import assert_crm_error, get, key_path

SERVICE = "/XRMServices/2011/OrganizationData.svc"


def test_service_root_lists_the_entity_sets(crm):
    response = get(crm, "")
    assert crm.service_root.endswith(SERVICE)
    assert set(response.json()["d"]["EntitySets"]) >= {"AccountSet", "ContactSet"}


def test_metadata_is_an_edmx_document_describing_every_entity(crm):
    response = get(crm, "$metadata", headers={"Accept": "application/xml"})
    assert response.status_code == 200
    assert "<edmx:Edmx" in response.text
    assert 'EntitySet Name="AccountSet"' in response.text
    assert 'Property Name="optevia_LastVerified" Type="Edm.DateTime"' in response.text


def test_record_is_addressed_by_guid_key_and_upper_case_guids_are_accepted(crm):
    key = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    response = get(crm, key_path("AccountSet", key.upper()))
    assert response.status_code == 200
    assert response.json()["d"]["AccountId"] == key


def test_malformed_key_is_400(crm):
    assert_crm_error(get(crm, "AccountSet(guid'1234')"), 400, crm_codes.BAD_REQUEST)


def test_key_without_guid_prefix_is_400(crm):
    assert_crm_error(get(crm, "AccountSet('7a4814f9-0000-0000-0000-000000000000')"), 400, crm_codes.BAD_REQUEST)


def test_unknown_entity_set_is_404(crm):
    assert_crm_error(get(crm, "WidgetSet"), 404, crm_codes.NOT_FOUND)


def test_unknown_record_is_404(crm):
    response = get(crm, key_path("AccountSet", "7a4814f9-1111-2222-3333-444455556666"))
    assert_crm_error(response, 404, crm_codes.NOT_FOUND)


def test_record_carries_metadata_uri_and_type(crm):
    key = crm.store.insert("Contact", {"LastName": "Smith"})["ContactId"]
    record = get(crm, key_path("ContactSet", key)).json()["d"]
    assert record["__metadata"]["type"] == "Microsoft.Crm.Sdk.Data.Services.Contact"
    # A real CRM writes records' URIs with the service root in lower case (IIS ignores case).
    root = crm.service_root.replace("/XRMServices/", "/xrmservices/")
    assert record["__metadata"]["uri"] == f"{root}/ContactSet(guid'{key}')"


def test_property_names_are_case_sensitive_schema_names(crm):
    record = crm.store.insert("Account", {"Name": "Acme", "optevia_Alias": "AC"})
    assert record["optevia_Alias"] == "AC"
    response = get(crm, "AccountSet", {"$select": "name"})
    assert_crm_error(response, 400, crm_codes.BAD_REQUEST)


def test_empty_complex_values_are_objects_never_null(crm):
    key = crm.store.insert("Contact", {})["ContactId"]
    record = get(crm, key_path("ContactSet", key)).json()["d"]
    assert record["ParentCustomerId"] == {"Id": None, "LogicalName": None, "Name": None}
    account = crm.store.insert("Account", {})
    assert account["Revenue"] == {"Value": None}
    assert account["StateCode"] == {"Value": 0}


def test_lookup_carries_id_logical_name_and_name(crm):
    account = crm.store.insert("Account", {"Name": "Acme"})
    contact = crm.store.insert(
        "Contact", {"ParentCustomerId": {"Id": account["AccountId"], "LogicalName": "account"}}
    )
    record = get(crm, key_path("ContactSet", contact["ContactId"])).json()["d"]
    assert record["ParentCustomerId"] == {"Id": account["AccountId"], "LogicalName": "account", "Name": "Acme"}


def test_money_and_decimals_are_json_strings_and_dates_are_utc_milliseconds(crm):
    record = crm.store.insert(
        "Account",
        {"Revenue": {"Value": "12"}, "optevia_ParentOwned": 1.5, "optevia_LastVerified": "/Date(1451606400123)/"},
    )
    assert record["Revenue"] == {"Value": "12.0000"}
    assert record["optevia_ParentOwned"] == "1.50"
    assert record["optevia_LastVerified"] == "/Date(1451606400000)/"
    assert re.fullmatch(r"/Date\(\d+000\)/", record["CreatedOn"])


def test_navigation_properties_are_deferred(crm):
    key = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    record = get(crm, key_path("AccountSet", key)).json()["d"]
    deferred = record["contact_customer_accounts"]["__deferred"]["uri"]
    root = crm.service_root.replace("/XRMServices/", "/xrmservices/")
    assert deferred == f"{root}/AccountSet(guid'{key}')/contact_customer_accounts"


def test_deferred_navigation_uri_can_be_followed(crm):
    account = crm.store.insert("Account", {"Name": "Acme"})
    ref = {"Id": account["AccountId"], "LogicalName": "account"}
    crm.store.insert("Contact", {"LastName": "A", "ParentCustomerId": ref})
    crm.store.insert("Contact", {"LastName": "B"})
    contacts = get(crm, key_path("AccountSet", account["AccountId"]) + "/contact_customer_accounts").json()
    assert [c["LastName"] for c in contacts["d"]["results"]] == ["A"]


def test_single_navigation_path_returns_the_related_record(crm):
    account = crm.store.insert("Account", {"Name": "Acme"})
    contact = crm.store.insert(
        "Contact", {"ParentCustomerId": {"Id": account["AccountId"], "LogicalName": "account"}}
    )
    response = get(crm, key_path("ContactSet", contact["ContactId"]) + "/contact_customer_accounts")
    assert response.json()["d"]["Name"] == "Acme"


def test_property_path_returns_one_value(crm):
    key = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    assert get(crm, key_path("AccountSet", key) + "/Name").json() == {"d": {"Name": "Acme"}}
