"""Fault control: each kind, method and entity-set matching, count, `after`, and the HTTP control path."""

import threading

import pytest
import requests

from cdms_api import crm_codes
from tests.emulator.wire import JSON, assert_crm_error, get, send

CUT_ERRORS = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)


@pytest.mark.parametrize("status", [500, 503, 401, 403])
def test_status_fault_answers_that_status_with_a_crm_error_body(crm, status):
    crm.faults.add(kind="status", status=status)
    code = {500: crm_codes.SERVER_ERROR, 503: crm_codes.SERVER_ERROR, 401: crm_codes.UNAUTHORIZED}
    assert_crm_error(get(crm, "AccountSet"), status, code.get(status, crm_codes.FORBIDDEN))
    assert get(crm, "AccountSet").status_code == 200


def test_count_hits_that_many_requests(crm):
    crm.faults.add(count=2)
    assert [get(crm, "AccountSet").status_code for _ in range(3)] == [503, 503, 200]


def test_fault_matches_effective_method_including_x_http_method(crm):
    key = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    crm.faults.add(method="MERGE")
    assert get(crm, "AccountSet").status_code == 200
    tunnelled = send(crm, "POST", f"AccountSet(guid'{key}')", {"Name": "B"}, {"X-HTTP-Method": "MERGE"})
    assert tunnelled.status_code == 503
    assert crm.store.get("Account", key)["Name"] == "Acme"


def test_fault_matches_entity_set(crm):
    crm.faults.add(entity_set="ContactSet")
    assert get(crm, "AccountSet").status_code == 200
    assert get(crm, "ContactSet").status_code == 503


def test_after_performs_the_write_then_loses_the_answer(crm):
    crm.faults.add(method="POST", after=True, status=500)
    response = send(crm, "POST", "AccountSet", {"Name": "Acme"})
    assert response.status_code == 500
    assert crm.store.count("Account") == 1


def test_without_after_the_write_does_not_happen(crm):
    crm.faults.add(method="POST")
    send(crm, "POST", "AccountSet", {"Name": "Acme"})
    assert crm.store.count("Account") == 0


def test_html_fault_is_a_200_sign_in_page(crm):
    crm.faults.add(kind="html")
    response = get(crm, "AccountSet")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Sign In" in response.text


def test_cut_fault_closes_the_connection_mid_body(crm):
    crm.store.insert("Account", {"Name": "Acme"})
    crm.faults.add(kind="cut")
    with pytest.raises(CUT_ERRORS):
        get(crm, "AccountSet")
    assert get(crm, "AccountSet").status_code == 200


def test_cut_after_a_create_keeps_the_record(crm):
    crm.faults.add(kind="cut", method="POST", after=True)
    with pytest.raises(CUT_ERRORS):
        send(crm, "POST", "AccountSet", {"Name": "Acme"})
    assert crm.store.count("Account") == 1


def test_hang_outlasts_the_client_timeout(crm):
    crm.faults.add(kind="hang", seconds=5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{crm.service_root}/AccountSet", headers=JSON, timeout=0.2)
    crm.faults.clear()


def test_hang_is_released_by_clear_with_a_503(crm):
    crm.faults.add(kind="hang", seconds=30)
    answers = []
    worker = threading.Thread(target=lambda: answers.append(get(crm, "AccountSet").status_code))
    worker.start()
    while not crm.stats.requests:
        worker.join(0.01)
    crm.faults.clear()
    worker.join(5)
    assert answers == [503]


def test_hang_that_expires_answers_normally(crm):
    crm.faults.add(kind="hang", seconds=0.05)
    assert get(crm, "AccountSet").status_code == 200


def test_unknown_fault_kind_is_refused(crm):
    with pytest.raises(ValueError):
        crm.faults.add(kind="explode")


def test_latency_is_mutable_at_run_time(crm):
    crm.latency_ms = 1
    assert get(crm, "AccountSet").status_code == 200
    assert crm.stats.requests == [("GET", "/XRMServices/2011/OrganizationData.svc/AccountSet")]


def test_stats_count_served_requests_with_effective_method(crm):
    key = crm.store.insert("Account", {})["AccountId"]
    send(crm, "POST", f"AccountSet(guid'{key}')", None, {"X-HTTP-Method": "DELETE"})
    assert [m for m, _ in crm.stats.requests] == ["DELETE"]


def test_http_control_path_adds_lists_and_clears_faults(crm):
    control = f"{crm.base_url}/_emulator"
    added = requests.post(f"{control}/faults", json={"kind": "status", "status": 500, "count": 2}, timeout=5)
    assert added.status_code == 201
    assert len(requests.get(f"{control}/faults", timeout=5).json()["faults"]) == 1
    assert get(crm, "AccountSet").status_code == 500
    requests.delete(f"{control}/faults", timeout=5)
    assert get(crm, "AccountSet").status_code == 200


def test_http_control_path_rejects_bad_fault(crm):
    response = requests.post(f"{crm.base_url}/_emulator/faults", json={"kind": "nope"}, timeout=5)
    assert_crm_error(response, 400, crm_codes.BAD_REQUEST)


def test_http_control_path_reset_and_stats(crm):
    crm.store.insert("Account", {})
    get(crm, "AccountSet")
    stats = requests.get(f"{crm.base_url}/_emulator/stats", timeout=5).json()
    assert stats["count"] == 1
    assert requests.post(f"{crm.base_url}/_emulator/reset", timeout=5).status_code == 200
    assert crm.store.count("Account") == 0
    assert crm.stats.requests == []
