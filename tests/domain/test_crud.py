"""Create, read, update and delete through the API reach the system of record; its changes show in the API."""

import datetime as dt

from reversion.models import Version

from contact.models import Contact
from organisation.models import Organisation

ORGS = "/api/v1/organisations/"
CONTACTS = "/api/v1/contacts/"


def test_create_stores_the_organisation(world, api):
    body = {"name": "Acme", "city": "Leeds", "number_of_employees": 12, "uk_organisation": True}
    response = api.post(ORGS, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    stored = world.get(Organisation, world.key_of(data))
    assert (stored["name"], stored["city"], stored["number_of_employees"]) == ("Acme", "Leeds", 12)
    assert stored["uk_organisation"] is True
    assert data["modified"] is not None and data["id"] > 0


def test_list_shows_records_made_elsewhere(world, api):
    world.add(Organisation, name="Zenith Ltd", city="York")
    world.add(Organisation, name="Alpha plc")
    response = api.get(ORGS)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [row["name"] for row in response.json()["results"]] == ["Alpha plc", "Zenith Ltd"]


def test_retrieve_shows_a_change_made_elsewhere(world, api):
    key = world.add(Organisation, name="Acme")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    world.change(Organisation, key, name="Acme Renamed")
    assert api.get(f"{ORGS}{org_id}/").json()["name"] == "Acme Renamed"


def test_patch_changes_only_the_given_field(world, api):
    key = world.add(Organisation, name="Acme", city="Leeds")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    response = api.patch(f"{ORGS}{org_id}/", {"city": "Hull"}, format="json")
    assert response.status_code == 200, response.json()
    stored = world.get(Organisation, key)
    assert (stored["name"], stored["city"]) == ("Acme", "Hull")


def test_put_replaces_the_fields(world, api):
    key = world.add(Organisation, name="Acme", city="Leeds")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    verified = dt.datetime(2016, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    body = {"name": "Acme 2", "city": "", "number_of_employees": 7, "last_verified": verified.isoformat()}
    response = api.put(f"{ORGS}{org_id}/", body, format="json")
    assert response.status_code == 200, response.json()
    stored = world.get(Organisation, key)
    assert (stored["name"], stored["city"], stored["number_of_employees"]) == ("Acme 2", "", 7)
    assert stored["last_verified"] == verified


def test_delete_removes_the_record(world, api):
    key = world.add(Organisation, name="Acme")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    assert api.delete(f"{ORGS}{org_id}/").status_code == 204
    assert world.get(Organisation, key) is None
    assert api.get(f"{ORGS}{org_id}/").status_code == 404


def test_a_record_deleted_elsewhere_is_gone_from_the_api(world, api):
    key = world.add(Organisation, name="Acme")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    world.remove(Organisation, key)
    assert api.get(f"{ORGS}{org_id}/").status_code == 404
    assert api.get(ORGS).json()["count"] == 0


def test_contact_create_links_its_organisation(world, api):
    org = world.add(Organisation, name="Acme")
    org_id = world.local_id(Organisation, org)
    body = {"first_name": "Ann", "last_name": "Lee", "email_address": "ann@acme.test", "organisation": org_id}
    response = api.post(CONTACTS, body, format="json")
    assert response.status_code == 201, response.json()
    stored = world.get(Contact, world.key_of(response.json()))
    assert (stored["organisation"], stored["email_address"]) == (org, "ann@acme.test")


def test_contact_list_brings_in_its_organisation(world, api):
    org = world.add(Organisation, name="Acme")
    world.add(Contact, first_name="Ann", last_name="Lee", organisation=org)
    row = api.get(CONTACTS).json()["results"][0]
    assert (row["first_name"], row["last_name"]) == ("Ann", "Lee")
    assert world.key_of(api.get(f"{ORGS}{row['organisation']}/").json()) == org


def test_the_old_crm_key_filters_the_list(world, api):
    world.add(Organisation, name="Acme")
    world.add(Organisation, name="Bolt")
    rows = api.get(ORGS).json()["results"]
    assert all(row["cdms_pk"] for row in rows)
    found = api.get(ORGS, {"cdms_pk": rows[1]["cdms_pk"]}).json()["results"]
    assert [row["name"] for row in found] == ["Bolt"]


def test_history_lists_api_saves_newest_first_with_their_user(world, api):
    created = api.post(ORGS, {"name": "Acme"}, format="json").json()
    api.patch(f"{ORGS}{created['id']}/", {"city": "Hull"}, format="json")
    history = api.get(f"{ORGS}{created['id']}/history/").json()
    assert [(v["user"], v["fields"]["city"]) for v in history] == [("editor", "Hull"), ("editor", "")]


def test_saves_outside_a_request_record_history(world):
    org = Organisation.objects.create(name="Acme")
    org.city = "York"
    org.save()
    versions = Version.objects.get_for_object(org)
    assert [(v.revision.user, v.field_dict["city"]) for v in versions] == [(None, "York"), (None, "")]


def test_dates_round_trip_in_utc(world, api):
    verified = dt.datetime(2015, 6, 1, 12, 0, tzinfo=dt.UTC)
    world.add(Organisation, name="Acme", last_verified=verified)
    row = api.get(ORGS).json()["results"][0]
    assert dt.datetime.fromisoformat(row["last_verified"]) == verified
