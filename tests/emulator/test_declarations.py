"""The emulator's entities are data: the shipped 2016 CDMS declarations, or another CRM's `$metadata`."""

import subprocess
import sys
from pathlib import Path

import pyodata
import pytest
import requests

from cdms_api.emulator import Emulator
from cdms_api.emulator.edmx import SHIPPED, MetadataError, parse
from tests.emulator.wire import JSON, get, results, send

CUSTOM = Path(__file__).parents[1] / "fixtures" / "custom-crm.edmx"
DOMAIN_SETS = {
    "AccountSet", "ContactSet", "SystemUserSet", "BusinessUnitSet", "detica_interactionSet",
    "optevia_sectorSet", "optevia_countrySet", "optevia_ukregionSet", "optevia_businesstypeSet",
    "optevia_employeerangeSet", "optevia_turnoverrangeSet", "optevia_titleSet", "optevia_contactroleSet",
    "optevia_interactioncommunicationchannelSet", "optevia_serviceSet", "optevia_servicedeliverystatusSet",
    "optevia_servicedeliverySet",
}  # fmt: skip


@pytest.fixture(scope="module")
def custom():
    emu = Emulator(metadata=CUSTOM).start()
    yield emu
    emu.stop()


def test_the_shipped_declarations_serve_the_2016_domain_at_the_real_width(crm):
    assert set(get(crm, "").json()["d"]["EntitySets"]) == DOMAIN_SETS
    entities = crm.store.schema.entities
    assert len(entities["Account"].attributes) == 201
    assert len(entities["Contact"].attributes) == 285
    assert len(entities["SystemUser"].attributes) == 162
    assert len(entities["detica_interaction"].attributes) == 82
    assert entities["detica_interaction"].key == "ActivityId"
    assert entities["optevia_sector"].key == "optevia_sectorId"


def test_metadata_is_the_document_the_entities_were_read_from(crm):
    response = get(crm, "$metadata", headers={})
    assert response.content == SHIPPED.read_bytes()
    assert response.headers["Content-Type"].startswith("application/xml")


def test_a_page_of_whole_records_is_many_times_the_bytes_of_a_selected_page(crm):
    crm.store.seed_demo(60)
    whole = get(crm, "AccountSet").content
    selected = get(crm, "AccountSet", {"$select": "AccountId,Name,ModifiedOn,VersionNumber"}).content
    records = results(crm, "AccountSet")
    assert len(records) == 50
    assert len(whole) > 10 * len(selected)
    # Every attribute and a deferred link per navigation property, as a real CRM sends them.
    assert len(records[0]) == 1 + 201 + len(crm.store.schema.entities["Account"].navigations)


def test_demo_records_fill_a_realistic_share_of_their_attributes(crm):
    crm.store.seed_demo(30)
    record = results(crm, "AccountSet", {"$top": "1"})[0]
    empty = (None, {"Value": None}, {"Id": None, "LogicalName": None, "Name": None})
    filled = [n for n, v in record.items() if v not in empty and not (isinstance(v, dict) and "__deferred" in v)]
    assert 50 <= len(filled) <= 150
    assert record["optevia_Sector"]["LogicalName"] == "optevia_sector" or record["optevia_Sector"]["Id"] is None
    assert record["Revenue_Base"] == record["Revenue"]


def test_reference_lists_advisers_and_interactions_are_seeded_before_what_points_at_them(crm):
    crm.store.seed_demo(20)
    sectors = results(crm, "optevia_sectorSet", {"$filter": "optevia_ParentSector/Id ne null"})
    assert sectors and all(s["optevia_ParentSector"]["Name"] for s in sectors)
    interaction = results(crm, "detica_interactionSet", {"$top": "1"})[0]
    adviser = interaction["optevia_Advisor"]
    assert get(crm, f"SystemUserSet(guid'{adviser['Id']}')").json()["d"]["FullName"] == adviser["Name"]


def test_every_record_is_owned_by_a_system_user_the_crm_serves(crm):
    created = send(crm, "POST", "AccountSet", {"Name": "Owned"}).json()["d"]
    owner = created["OwnerId"]
    assert (owner["LogicalName"], created["CreatedBy"]["Id"]) == ("systemuser", owner["Id"])
    assert get(crm, f"SystemUserSet(guid'{owner['Id']}')").json()["d"]["FullName"] == "CRM Admin"


def test_custom_entities_refuse_writes_of_their_lower_case_state_attributes(crm):
    response = send(crm, "POST", "optevia_sectorSet", {"optevia_name": "Space", "statecode": {"Value": 1}})
    assert response.status_code == 400 and "statecode" in response.text
    created = send(crm, "POST", "optevia_sectorSet", {"optevia_name": "Space"}).json()["d"]
    assert (created["statecode"], created["statuscode"]) == ({"Value": 0}, {"Value": 1})


def test_an_activity_is_keyed_by_activity_id_and_its_lookups_point_at_several_entities(crm):
    account = send(crm, "POST", "AccountSet", {"Name": "Acme"}).json()["d"]["AccountId"]
    body = {"Subject": "Visit", "RegardingObjectId": {"Id": account, "LogicalName": "account"}}
    created = send(crm, "POST", "detica_interactionSet", body).json()["d"]
    assert get(crm, f"detica_interactionSet(guid'{created['ActivityId']}')").status_code == 200
    contact = send(crm, "POST", "ContactSet", {"LastName": "Jones"}).json()["d"]["ContactId"]
    moved = {"RegardingObjectId": {"Id": contact, "LogicalName": "contact"}}
    assert send(crm, "MERGE", f"detica_interactionSet(guid'{created['ActivityId']}')", moved).status_code == 204
    wrong = {"RegardingObjectId": {"Id": contact, "LogicalName": "optevia_sector"}}
    response = send(crm, "MERGE", f"detica_interactionSet(guid'{created['ActivityId']}')", wrong)
    assert response.status_code == 400 and "RegardingObjectId" in response.text


def test_a_lookup_to_an_entity_this_crm_does_not_serve_keeps_any_key(crm):
    currency = "1d2f9c1e-0000-4000-8000-000000000001"
    body = {"Name": "Acme", "TransactionCurrencyId": {"Id": currency, "LogicalName": "transactioncurrency"}}
    created = send(crm, "POST", "AccountSet", body).json()["d"]
    assert created["TransactionCurrencyId"] == {"Id": currency, "LogicalName": "transactioncurrency", "Name": None}
    missing = {"Name": "Beta", "optevia_Sector": {"Id": currency, "LogicalName": "optevia_sector"}}
    response = send(crm, "POST", "AccountSet", missing)
    assert response.status_code == 400 and "Does Not Exist" in response.text


def test_deleting_an_account_deletes_its_contacts_and_unlinks_its_interactions(crm):
    account = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    contact = crm.store.insert("Contact", {"ParentCustomerId": {"Id": account, "LogicalName": "account"}})
    ref = {"Id": account, "LogicalName": "account"}
    interaction = crm.store.insert("detica_interaction", {"Subject": "Visit", "optevia_Organisation": ref})
    assert send(crm, "DELETE", f"AccountSet(guid'{account}')").status_code == 204
    assert crm.store.get("Contact", contact["ContactId"]) is None
    after = crm.store.get("detica_interaction", interaction["ActivityId"])
    assert after["optevia_Organisation"]["Id"] is None and after["VersionNumber"] != interaction["VersionNumber"]


def test_another_crms_metadata_serves_its_entities_and_is_served_as_given(custom):
    assert get(custom, "", headers=JSON).json()["d"]["EntitySets"] == ["new_widgetSet", "new_gadgetSet"]
    assert get(custom, "$metadata", headers={}).content == CUSTOM.read_bytes()
    assert get(custom, "AccountSet").status_code == 404


def test_every_attribute_type_of_another_crm_is_stored_filtered_and_sent_back(custom):
    custom.reset()
    body = {
        "new_name": "Cog", "new_notes": "x" * 5000, "new_count": 7, "new_big": "9007199254740993",
        "new_flag": True, "new_ratio": 0.25, "new_price": "1.23456", "new_cost": {"Value": "10.5"},
        "new_kind": {"Value": 100000001}, "new_when": "/Date(1451606400000)/",
        "new_Anything": {"Id": "1d2f9c1e-0000-4000-8000-000000000002", "LogicalName": "lead"},
    }  # fmt: skip
    created = send(custom, "POST", "new_widgetSet", body).json()["d"]
    key = created["new_widgetId"]
    assert created["new_big"] == "9007199254740993" and created["new_ratio"] == 0.25
    assert created["new_price"] == "1.2346" and created["new_cost"] == {"Value": "10.5000"}
    assert created["new_Anything"]["LogicalName"] == "lead" and created["statecode"] == {"Value": 0}
    child = send(custom, "POST", "new_widgetSet", {"new_ParentWidget": {"Id": key, "LogicalName": "new_widget"}})
    assert child.status_code == 201
    for expression in (
        "new_big eq 9007199254740993", "new_ratio gt 0.2", "new_kind/Value eq 100000001",
        "new_cost/Value ge 10", "new_flag eq true", f"new_ParentWidget/Id eq guid'{key}'",
    ):  # fmt: skip
        found = results(custom, "new_widgetSet", {"$filter": expression})
        assert len(found) == 1, expression
    children = results(custom, f"new_widgetSet(guid'{key}')/Referencednew_widget_ParentWidget")
    assert [c["new_ParentWidget"]["Id"] for c in children] == [key]


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("new_big", "9223372036854775808"), ("new_ratio", "NaN"), ("new_ratio", True), ("new_count", 2**31)],
)
def test_a_value_outside_an_attributes_type_is_refused_naming_it(custom, attribute, value):
    response = send(custom, "POST", "new_widgetSet", {attribute: value})
    assert response.status_code == 400 and attribute in response.json()["error"]["message"]["value"]


def test_several_documents_serve_every_entity_and_one_document_that_pyodata_loads():
    emu = Emulator(metadata=[SHIPPED, CUSTOM]).start()
    try:
        sets = get(emu, "", headers=JSON).json()["d"]["EntitySets"]
        assert set(sets) == DOMAIN_SETS | {"new_widgetSet", "new_gadgetSet"}
        assert len(emu.store.schema.entities["Account"].attributes) == 201
        session = requests.Session()
        session.headers["Accept"] = "application/json"
        service = pyodata.Client(emu.service_root, session)
        assert {s.name for s in service.schema.entity_sets} == set(sets)
    finally:
        emu.stop()


def test_pyodata_loads_another_crms_metadata(custom):
    session = requests.Session()
    session.headers["Accept"] = "application/json"
    service = pyodata.Client(custom.service_root, session)
    widget = service.schema.entity_type("new_widget")
    assert widget.proprty("new_big").typ.name == "Edm.Int64"
    assert widget.nav_proprty("new_new_widget_new_gadget_Widget").to_role.entity_type_name == "new_gadget"


def test_a_document_that_is_not_crm_metadata_is_refused_with_a_clear_error(tmp_path):
    with pytest.raises(MetadataError, match="not XML"):
        parse(b"<html>sign in</html")
    with pytest.raises(MetadataError, match="no EntityType"):
        parse(b"<Edmx/>")
    bad = tmp_path / "bad.edmx"
    bad.write_text("<Edmx>")
    command = [sys.executable, "-m", "cdms_api.emulator", "--port", "0", "--metadata", str(bad)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode != 0 and f"cannot serve --metadata {bad}" in finished.stderr
