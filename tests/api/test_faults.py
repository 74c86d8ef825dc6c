"""A CRM that is down, slow or refusing answers 502/503/504 with a JSON body; bad input answers 400.

Neither leaves anything half-written: no local row and no CRM record for a failed create,
unchanged values on both sides for a failed update.
"""

import socket

import pytest
from reversion.models import Version

from cdms_api.counting import count_requests
from organisation.models import Organisation
from tests.crm_records import seed_account

ORGS = "/api/v1/organisations/"
MANY = 20  # more faults than the client has retries


def assert_gateway(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]


@pytest.mark.parametrize(
    "fault, status, code",
    [
        ({"kind": "status", "status": 503}, 503, "cdms_unavailable"),
        ({"kind": "status", "status": 500}, 502, "cdms_bad_gateway"),
        ({"kind": "status", "status": 403}, 502, "cdms_bad_gateway"),
        ({"kind": "status", "status": 401}, 502, "cdms_bad_gateway"),
        ({"kind": "html"}, 502, "cdms_bad_gateway"),
        ({"kind": "cut"}, 503, "cdms_unavailable"),
    ],
)
def test_list_answers_crm_faults_as_a_gateway(cdms, api, fault, status, code):
    seed_account(cdms, "Acme")
    cdms.faults.add(count=MANY, **fault)
    assert_gateway(api.get(ORGS), status, code)


def test_a_crm_that_does_not_answer_in_time_is_a_504(cdms, api, settings):
    settings.CDMS_TIMEOUT = 0.2
    cdms.faults.add(kind="hang", count=MANY, seconds=1)
    assert_gateway(api.get(ORGS), 504, "cdms_timeout")


def test_a_crm_that_refuses_connections_is_a_503(cdms, api, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CDMS_BASE_URL = f"http://127.0.0.1:{port}"
    response = api.get(ORGS)
    assert_gateway(response, 503, "cdms_unavailable")
    assert response["Retry-After"]


def test_a_failed_create_writes_nothing_anywhere(cdms, api):
    cdms.faults.add(kind="status", status=503, count=MANY, method="POST")
    assert_gateway(api.post(ORGS, {"name": "Acme"}, format="json"), 503, "cdms_unavailable")
    assert Organisation.objects.skip_cdms().count() == 0
    assert cdms.store.count("Account") == 0
    assert Version.objects.count() == 0


def test_a_failed_update_changes_nothing_anywhere(cdms, api):
    key = seed_account(cdms, "Acme", Address1_City="Leeds")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    versions = Version.objects.count()
    cdms.faults.add(kind="status", status=500, count=MANY, method="MERGE")
    assert_gateway(api.patch(f"{ORGS}{org_id}/", {"city": "Hull"}, format="json"), 502, "cdms_bad_gateway")
    assert Organisation.objects.skip_cdms().get().city == "Leeds"
    assert cdms.store.get("Account", key)["Address1_City"] == "Leeds"
    assert Version.objects.count() == versions


def test_a_failed_delete_keeps_the_row(cdms, api):
    key = seed_account(cdms, "Acme")
    org_id = api.get(ORGS).json()["results"][0]["id"]
    cdms.faults.add(kind="status", status=503, count=MANY, method="DELETE")
    assert_gateway(api.delete(f"{ORGS}{org_id}/"), 503, "cdms_unavailable")
    assert Organisation.objects.skip_cdms().filter(pk=org_id).exists()
    assert cdms.store.get("Account", key) is not None


def test_invalid_input_is_a_400_naming_each_field_without_calling_the_crm(cdms, api):
    body = {"name": "x" * 200, "email_address": "not-an-email", "number_of_employees": "many"}
    with count_requests() as counter:
        response = api.post(ORGS, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "email_address", "number_of_employees"}
    assert counter.count == 0
    assert cdms.store.count("Account") == 0


def test_a_contact_pointing_at_no_organisation_is_a_400(cdms, api):
    response = api.post("/api/v1/contacts/", {"first_name": "Ann", "organisation": 999}, format="json")
    assert response.status_code == 400
    assert "organisation" in response.json()
