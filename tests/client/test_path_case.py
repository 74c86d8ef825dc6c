"""The service root is matched in any case: IIS ignores case, and real answers mix it.

A real CRM 2011 writes records' `__metadata.uri` as `/xrmservices/2011/...` and `__next` links as
`/XRMServices/2011/...`; a deployment's links may come in yet another case.
"""

import pytest
import requests

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSUnexpectedResponseError
from tests.emulator.wire import JSON

LOWER = "/xrmservices/2011/organizationdata.svc"


def test_a_next_link_in_another_case_is_followed_to_the_last_page(crm, crm_client):
    crm.next_link_path = LOWER
    for n in range(120):
        crm.store.insert("Account", {"Name": f"Org {n:03}"})
    with count_requests() as counter:
        pages = list(crm_client.list("Account"))
    assert [len(page) for page in pages] == [50, 50, 20]
    assert counter.count == 3
    assert [r.entity_set for r in counter.requests] == ["AccountSet"] * 3


@pytest.mark.parametrize(
    "path",
    [
        "/XRMSERVICES/2011/ORGANIZATIONDATA.SVC/AccountSet",
        "/xrmservices/2011/OrganizationData.svc/AccountSet",
        "/XRMServices/2011/OrganizationData.svc/AccountSet",
    ],
)
def test_links_below_the_root_in_any_case_are_rebased_on_it(crm_client, path):
    url = crm_client.url(f"http://proxy.internal:8080{path}?$skiptoken=5")
    assert url.startswith(crm_client.base_url + path)
    assert crm_client.entity_set_of(url) == "AccountSet"


@pytest.mark.parametrize(
    "link",
    [
        "http://evil/steal",
        "http://h/XRMServices/2011/OrganizationData.svcX/AccountSet",
        "http://h/xrmservices/2012/",
    ],
)
def test_links_outside_the_root_in_any_case_are_still_refused(crm_client, link):
    with pytest.raises(CDMSUnexpectedResponseError, match="outside"):
        crm_client.url(link)


def test_the_emulator_answers_the_service_root_in_any_case_and_mixes_cases_as_a_crm_does(crm):
    for n in range(51):
        crm.store.insert("Account", {"Name": f"Org {n:03}"})
    answer = requests.get(f"{crm.base_url}{LOWER}/AccountSet", headers=JSON, timeout=5)
    assert answer.status_code == 200
    data = answer.json()["d"]
    assert data["results"][0]["__metadata"]["uri"].startswith(f"{crm.base_url}/xrmservices/2011/")
    assert data["__next"].startswith(f"{crm.base_url}/XRMServices/2011/OrganizationData.svc/AccountSet?")
