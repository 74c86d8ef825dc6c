"""Create, read, update and delete through the API land in the CRM, and CRM changes show up in it."""

import datetime as dt

from cdms_api import odata
from tests.crm_records import later, seed_account, seed_contact, wire_date

ORGS = "/api/v1/organisations/"
CONTACTS = "/api/v1/contacts/"


def test_create_writes_the_organisation_to_the_crm(cdms, api):
    body = {"name": "Acme", "city": "Leeds", "number_of_employees": 12, "uk_organisation": True}
    response = api.post(ORGS, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    record = cdms.store.get("Account", data["cdms_pk"])
    assert (record["Name"], record["Address1_City"], record["NumberOfEmployees"]) == ("Acme", "Leeds", 12)
    assert record["optevia_ukorganisation"] is True
    assert data["modified"] is not None and data["id"] > 0


def test_list_shows_records_made_in_the_crm(cdms, api):
    seed_account(cdms, "Zenith Ltd", Address1_City="York")
    seed_account(cdms, "Alpha plc")
    response = api.get(ORGS)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [row["name"] for row in response.json()["results"]] == ["Alpha plc", "Zenith Ltd"]


def test_retrieve_shows_a_change_made_in_the_crm(cdms, api):
    key = seed_account(cdms, "Acme")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    cdms.store.update("Account", key, {"Name": "Acme Renamed"}, modified_on=later())
    assert api.get(f"{ORGS}{org_id}/").json()["name"] == "Acme Renamed"


def test_patch_changes_only_the_given_field_in_the_crm(cdms, api):
    key = seed_account(cdms, "Acme", Address1_City="Leeds")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    response = api.patch(f"{ORGS}{org_id}/", {"city": "Hull"}, format="json")
    assert response.status_code == 200, response.json()
    record = cdms.store.get("Account", key)
    assert (record["Name"], record["Address1_City"]) == ("Acme", "Hull")


def test_put_replaces_the_fields(cdms, api):
    key = seed_account(cdms, "Acme", Address1_City="Leeds")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    verified = dt.datetime(2016, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    body = {"name": "Acme 2", "city": "", "number_of_employees": 7, "last_verified": verified.isoformat()}
    response = api.put(f"{ORGS}{org_id}/", body, format="json")
    assert response.status_code == 200, response.json()
    record = cdms.store.get("Account", key)
    assert (record["Name"], record["Address1_City"], record["NumberOfEmployees"]) == ("Acme 2", None, 7)
    assert odata.parse_date(record["optevia_LastVerified"]) == verified


def test_delete_removes_the_record_from_the_crm(cdms, api):
    key = seed_account(cdms, "Acme")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    assert api.delete(f"{ORGS}{org_id}/").status_code == 204
    assert cdms.store.get("Account", key) is None
    assert api.get(f"{ORGS}{org_id}/").status_code == 404


def test_a_record_deleted_in_the_crm_is_gone_from_the_api(cdms, api):
    key = seed_account(cdms, "Acme")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    cdms.store.delete("Account", key)
    assert api.get(f"{ORGS}{org_id}/").status_code == 404
    assert api.get(ORGS).json()["count"] == 0


def test_contact_create_links_the_crm_parent(cdms, api):
    account = seed_account(cdms, "Acme")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    body = {"first_name": "Ann", "last_name": "Lee", "email_address": "ann@acme.test", "organisation": org_id}
    response = api.post(CONTACTS, body, format="json")
    assert response.status_code == 201, response.json()
    record = cdms.store.get("Contact", response.json()["cdms_pk"])
    assert record["ParentCustomerId"]["Id"].lower() == account.lower()
    assert record["EMailAddress1"] == "ann@acme.test"


def test_contact_list_brings_in_its_parent_organisation(cdms, api):
    account = seed_account(cdms, "Acme")
    seed_contact(cdms, "Ann", "Lee", account=account)
    row = api.get(CONTACTS).json()["results"][0]
    assert (row["first_name"], row["last_name"]) == ("Ann", "Lee")
    assert api.get(f"{ORGS}{row['organisation']}/").json()["cdms_pk"] == account.lower()


def test_history_lists_api_saves_with_their_user_and_crm_refreshes(cdms, api):
    created = api.post(ORGS, {"name": "Acme"}, format="json").json()
    api.patch(f"{ORGS}{created['id']}/", {"city": "Hull"}, format="json")
    cdms.store.update("Account", created["cdms_pk"], {"Name": "Acme (CRM)"}, modified_on=later())
    api.get(f"{ORGS}{created['id']}/")
    history = api.get(f"{ORGS}{created['id']}/history/").json()
    assert [(v["user"], v["comment"]) for v in history][0] == (None, "CDMS refresh")
    assert history[0]["fields"]["name"] == "Acme (CRM)"
    assert [v["user"] for v in history[1:]] == ["editor", "editor"]
    assert history[1]["fields"]["city"] == "Hull"


def test_dates_round_trip_in_utc(cdms, api):
    verified = dt.datetime(2015, 6, 1, 12, 0, tzinfo=dt.UTC)
    seed_account(cdms, "Acme", optevia_LastVerified=wire_date(verified))
    row = api.get(ORGS).json()["results"][0]
    assert dt.datetime.fromisoformat(row["last_verified"]) == verified
