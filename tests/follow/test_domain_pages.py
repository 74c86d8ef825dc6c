"""CRM requests of a list page of every endpoint, within the staleness bound: the first view, then the repeat.

After a follower round the watermarks are fresh, so a list is answered from the mirror; the
page's rows are verified by key once (one request a page), and a repeat view within the bound
costs no request, since the CRM vouched for those rows moments ago.
"""

import pytest
from django.contrib.auth.models import User

from cdms_api.counting import count_requests
from cdms_api.emulator.seed import seed_demo
from migrator.mirror import entities
from migrator.mirror.follower import follow
from tests.follow.vouches import age_vouches

HOLDER = "test-pages"
ENDPOINTS = [
    "organisations",
    "contacts",
    "interactions",
    "advisers",
    *(
        f"metadata/{name}"
        for name in (
            "sector",
            "country",
            "uk-region",
            "business-type",
            "employee-range",
            "turnover-range",
            "title",
            "contact-role",
            "interaction-type",
            "service",
            "service-delivery-status",
            "team",
        )
    ),  # fmt: skip
]


@pytest.fixture
def api(client, db):
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw"))
    return client


@pytest.fixture
def demo(cdms, settings):
    """The demo world (10 companies, their contacts and interactions, every list), followed once."""
    settings.CDMS_MAX_STALENESS = 60
    seed_demo(cdms.store, 10, seed=7)
    for migrator in entities.ordered():
        follow(migrator.model_class, HOLDER)
    age_vouches()  # rows the CRM showed long ago: the first view must verify its page
    return cdms


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_list_page_costs_one_request_first_and_none_when_repeated(demo, api, endpoint):
    with count_requests() as first:
        response = api.get(f"/api/v1/{endpoint}/", {"page_size": 25})
    assert response.status_code == 200
    assert response.json()["results"]
    assert first.count == 1  # the page's rows verified by key, in one request
    with count_requests() as repeat:
        again = api.get(f"/api/v1/{endpoint}/", {"page_size": 25})
    assert again.json() == response.json()
    assert repeat.count == 0
