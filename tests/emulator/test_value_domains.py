"""The emulator refuses what CRM 2011 cannot store or set: dates before 1753, Int32 overflow, StateCode."""

import pytest

from cdms_api import crm_codes
from tests.emulator.wire import assert_crm_error, get, send


@pytest.mark.parametrize(
    "body",
    [
        {"optevia_LastVerified": "/Date(-7000000000000)/"},  # 1748
        {"optevia_LastVerified": "1752-12-31T23:59:59Z"},
        {"NumberOfEmployees": 2**31},
        {"NumberOfEmployees": -(2**31) - 1},
        {"StateCode": {"Value": 1}},
        {"StatusCode": {"Value": 2}},
    ],
)
def test_a_write_the_crm_cannot_store_is_a_400_and_stores_nothing(crm, body):
    assert_crm_error(send(crm, "POST", "AccountSet", {"Name": "Acme", **body}), 400, crm_codes.BAD_REQUEST)
    assert crm.store.count("Account") == 0


def test_the_first_and_last_storable_values_are_kept(crm):
    body = {"optevia_LastVerified": "1753-01-01T00:00:00Z", "NumberOfEmployees": 2**31 - 1}
    record = send(crm, "POST", "AccountSet", body).json()["d"]
    assert record["optevia_LastVerified"] == "/Date(-6847804800000)/"
    assert record["NumberOfEmployees"] == 2**31 - 1


def test_a_merge_setting_the_state_is_refused_and_changes_nothing(crm):
    key = send(crm, "POST", "AccountSet", {"Name": "Acme"}).json()["d"]["AccountId"]
    response = send(crm, "MERGE", f"AccountSet(guid'{key}')", {"Name": "New", "StateCode": {"Value": 1}})
    assert_crm_error(response, 400, crm_codes.BAD_REQUEST)
    assert "SetStateRequest" in response.json()["error"]["message"]["value"]
    assert crm.store.get("Account", key)["Name"] == "Acme"


def test_a_filter_with_a_date_before_1753_is_refused(crm):
    response = get(crm, "AccountSet", {"$filter": "optevia_LastVerified lt datetime'1700-01-01T00:00:00'"})
    assert_crm_error(response, 400, crm_codes.BAD_REQUEST)
