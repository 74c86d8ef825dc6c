"""CRM-only API behaviour: the CRM's own wire values after a PUT, and CRM refreshes in the history.

What the API does in both worlds is in tests/domain/test_crud.py.
"""

import datetime as dt

from cdms_api import odata
from tests.crm_records import later, seed_account

ORGS = "/api/v1/organisations/"


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
