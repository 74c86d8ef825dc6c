"""List filters (one exact parameter per field, plus lookups), search, ordering and paging."""

import datetime as dt

import pytest

from contact.models import Contact
from organisation.models import Organisation

ORGS = "/api/v1/organisations/"


def names(response):
    assert response.status_code == 200, response.json()
    return sorted(row["name"] for row in response.json()["results"])


@pytest.fixture
def three(world):
    world.add(
        Organisation, name="Acme", city="Leeds", number_of_employees=10,
        last_verified=dt.datetime(2015, 3, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    world.add(Organisation, name="Acme Tools", city="York", number_of_employees=250)
    world.add(
        Organisation, name="Bolt", city="Leeds", number_of_employees=None,
        last_verified=dt.datetime(2016, 3, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    return world


@pytest.mark.parametrize(
    "query, expected",
    [
        ("name=Acme", ["Acme"]),
        ("name__icontains=acme", ["Acme", "Acme Tools"]),
        ("name__istartswith=bo", ["Bolt"]),
        ("city=Leeds", ["Acme", "Bolt"]),
        ("number_of_employees__gte=100", ["Acme Tools"]),
        ("number_of_employees__isnull=true", ["Bolt"]),
        ("last_verified__year=2016", ["Bolt"]),
        ("last_verified__gte=2015-01-01T00:00:00Z", ["Acme", "Bolt"]),
        ("search=york", ["Acme Tools"]),
        ("city=Leeds&number_of_employees__lte=10", ["Acme"]),
    ],
)
def test_organisation_filters(three, api, query, expected):
    assert names(api.get(f"{ORGS}?{query}")) == expected


def test_ordering_and_paging(three, api):
    page = api.get(f"{ORGS}?ordering=-name&page_size=2").json()
    assert page["count"] == 3
    assert [row["name"] for row in page["results"]] == ["Bolt", "Acme Tools"]
    assert page["next"] is not None
    second = api.get(f"{ORGS}?ordering=-name&page_size=2&page=2").json()
    assert [row["name"] for row in second["results"]] == ["Acme"]
    by_size = api.get(f"{ORGS}?ordering=-number_of_employees&number_of_employees__isnull=false").json()
    assert [row["name"] for row in by_size["results"]] == ["Acme Tools", "Acme"]


def test_bad_filter_value_is_a_400_naming_the_parameter(three, api):
    response = api.get(f"{ORGS}?number_of_employees__gte=many")
    assert response.status_code == 400
    assert "number_of_employees__gte" in response.json()


def test_contacts_filter_by_organisation_and_name(world, api):
    acme, bolt = world.add(Organisation, name="Acme"), world.add(Organisation, name="Bolt")
    world.add(Contact, first_name="Ann", last_name="Lee", organisation=acme)
    world.add(Contact, first_name="Bob", last_name="Lee", organisation=bolt)
    world.add(Contact, first_name="Cy", last_name="Day")
    org_ids = {row["name"]: row["id"] for row in api.get(ORGS).json()["results"]}
    by_org = api.get(f"/api/v1/contacts/?organisation={org_ids['Acme']}").json()["results"]
    assert [row["first_name"] for row in by_org] == ["Ann"]
    by_name = api.get("/api/v1/contacts/?last_name=Lee&ordering=first_name").json()["results"]
    assert [row["first_name"] for row in by_name] == ["Ann", "Bob"]
    orphans = api.get("/api/v1/contacts/?organisation__isnull=true").json()["results"]
    assert [row["first_name"] for row in orphans] == ["Cy"]
