"""Filter parameters: no value a client sends makes the API fail; invalid ones are a 400 naming them."""

import datetime as dt

import pytest

from tests.crm_records import seed_account, seed_contact, wire_date

ORGS = "/api/v1/organisations/"
CONTACTS = "/api/v1/contacts/"


@pytest.fixture
def firms(cdms):
    acme = seed_account(
        cdms, "Acme", NumberOfEmployees=10, optevia_LastVerified=wire_date(dt.datetime(2015, 3, 1, tzinfo=dt.UTC))
    )
    seed_account(cdms, "Bolt", NumberOfEmployees=2**31 - 1)
    seed_contact(cdms, "Ann", "Lee", account=acme)
    return cdms


def names(response):
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json()["results"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("number_of_employees=99999999999", []),
        ("number_of_employees__gt=99999999999", []),
        ("number_of_employees__lt=99999999999", ["Acme", "Bolt"]),
        ("number_of_employees__gte=-99999999999", ["Acme", "Bolt"]),
        ("number_of_employees=2147483647", ["Bolt"]),
        ("last_verified__gt=0001-01-01T00:00:00Z", ["Acme"]),
        ("last_verified__lt=1000-01-01T00:00:00Z", []),
        ("last_verified__lte=9999-12-31T23:59:59Z", ["Acme"]),
        ("last_verified__year=9999", []),
        ("last_verified__year=1", []),
        ("last_verified__date=9999-12-31", []),
        ("last_verified__date=0001-01-01", []),
        ("created__year=2015", []),
        ("last_verified__lt=2399-12-06T06:25:42%2B22:44", ["Acme"]),
        ("last_verified__gt=2015-02-28T23:00:00-23:59", []),
        ("name=" + "é" * 160, []),
        ("name__icontains=" + "%25" * 160, []),
        ("cdms_pk=not-a-guid", []),
    ],
)
def test_values_at_and_past_the_crms_limits_are_answered(api, firms, query, expected):
    assert names(api.get(f"{ORGS}?{query}")) == expected


@pytest.mark.parametrize(
    "query",
    [
        "last_verified__year=0",
        "last_verified__year=10000",
        "last_verified__year=-5",
        "last_verified__year=2015.5",
        "last_verified__year=99999999999999999999999",
        "number_of_employees=1.5",
        "number_of_employees=1e400",
        "number_of_employees=" + "9" * 5000,
        "number_of_employees=NaN",
        "number_of_employees=" + "9" * 20,
        "name=" + "é" * 3000,
        "name__icontains=" + "%25" * 500,
        "last_verified=not-a-date",
        "last_verified__date=2020-13-45",
    ],
)
def test_invalid_values_are_a_400_naming_the_parameter(api, firms, query):
    response = api.get(f"{ORGS}?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "organisation=99999999999999999999",
        "organisation=abc",
        "organisation__in=1,abc",
        "created__year=0",
        "modified__date=0000-01-01",
    ],
)
def test_invalid_contact_filters_are_a_400_naming_the_parameter(api, firms, query):
    response = api.get(f"{CONTACTS}?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


def test_a_filter_matching_more_rows_than_the_cap_is_a_400_naming_the_cap(api, firms, settings):
    settings.CDMS_SYNC_MAX_ROWS = 1
    response = api.get(f"{ORGS}?number_of_employees__gt=1")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "cdms_read_too_large"
    assert "CDMS_SYNC_MAX_ROWS=1" in response.json()["detail"]
    assert names(api.get(f"{ORGS}?name=Acme")) == ["Acme"]
