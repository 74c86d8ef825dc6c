"""CRM round trips per API call: each request fetches a given set of CRM rows once."""

from cdms_api.counting import count_requests
from tests.crm_records import seed_account


def test_a_list_page_reads_the_crm_once(cdms, api):
    for i in range(120):
        seed_account(cdms, f"Firm {i:03}", NumberOfEmployees=3)
    with count_requests() as counter:
        response = api.get("/api/v1/organisations/", {"number_of_employees": 3, "page_size": 10})
    assert response.status_code == 200
    assert response.json()["count"] == 120
    assert [row["name"] for row in response.json()["results"][:2]] == ["Firm 000", "Firm 001"]
    assert counter.count == 3  # three pages of 50, shared by the count and the page


def test_a_retrieve_is_one_request(cdms, api):
    key = seed_account(cdms, "Acme")
    listed = api.get("/api/v1/organisations/", {"name": "Acme"}).json()["results"][0]
    with count_requests() as counter:
        response = api.get(f"/api/v1/organisations/{listed['id']}/")
    assert response.json()["cdms_pk"] == key
    assert counter.count == 1
