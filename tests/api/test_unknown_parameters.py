"""A refused parameter costs the CRM nothing: the list is refused before anything is read."""

from cdms_api.counting import count_requests
from tests.crm_records import seed_account


def test_an_unknown_parameter_is_refused_without_a_crm_request(cdms, api):
    seed_account(cdms, "Acme")
    with count_requests() as counter:
        response = api.get("/api/v1/organisations/", {"city__contains": "Lee"})
    assert response.status_code == 400
    assert counter.count == 0
    with count_requests() as counter:
        assert api.get("/api/v1/organisations/", {"city__icontains": "Lee"}).status_code == 200
    assert counter.count == 1
