"""Companies and contacts carry the real CRM's fields and lookups: written, read and filtered by id."""

import pytest

from contact.models import Contact
from metadata.models import BusinessType, Country, Sector, Title, UKRegion
from organisation.models import Organisation

ORGS = "/api/v1/organisations/"
CONTACTS = "/api/v1/contacts/"


@pytest.fixture
def lists(world):
    return {
        "country": world.add(Country, name="United Kingdom"),
        "uk_region": world.add(UKRegion, name="Yorkshire and The Humber"),
        "business_type": world.add(BusinessType, name="Private limited company"),
        "sector": world.add(Sector, name="Software"),
        "title": world.add(Title, name="Dr"),
    }


def test_a_company_is_created_with_its_address_and_lookups(world, api, lists):
    parent = world.add(Organisation, name="Acme Holdings")
    body = {
        "name": "Acme",
        "company_number": "01234567",
        "registered_address_1": "1 Main Street",
        "registered_address_town": "Leeds",
        "registered_address_county": "West Yorkshire",
        "registered_address_postcode": "LS1 1AA",
        "description": " ".join(["Makes things."] * 20),
        "website": "https://acme.example",
        "country": world.local_id(Country, lists["country"]),
        "uk_region": world.local_id(UKRegion, lists["uk_region"]),
        "business_type": world.local_id(BusinessType, lists["business_type"]),
        "sector": world.local_id(Sector, lists["sector"]),
        "parent": world.local_id(Organisation, parent),
    }
    response = api.post(ORGS, body, format="json")
    assert response.status_code == 201, response.json()
    stored = world.get(Organisation, world.key_of(response.json()))
    assert stored["company_number"] == "01234567"
    assert stored["registered_address_postcode"] == "LS1 1AA"
    assert stored["description"] == body["description"]
    assert (stored["country"], stored["sector"], stored["parent"]) == (lists["country"], lists["sector"], parent)
    assert stored["employee_range"] is None


def test_a_company_made_elsewhere_shows_its_lookups_and_filters_by_them(world, api, lists):
    world.add(
        Organisation, name="Acme", sector=lists["sector"], country=lists["country"], company_number="00000001"
    )
    world.add(Organisation, name="Bolt", country=lists["country"])
    sector_id = world.local_id(Sector, lists["sector"])
    rows = api.get(ORGS, {"sector": sector_id}).json()["results"]
    assert [(row["name"], row["sector"], row["company_number"]) for row in rows] == [
        ("Acme", sector_id, "00000001")
    ]
    country_id = world.local_id(Country, lists["country"])
    assert api.get(ORGS, {"country": country_id}).json()["count"] == 2
    assert [row["name"] for row in api.get(ORGS, {"sector__isnull": "true"}).json()["results"]] == ["Bolt"]
    assert [row["name"] for row in api.get(ORGS, {"search": "00000001"}).json()["results"]] == ["Acme"]


def test_a_contact_carries_its_title_phone_address_and_country(world, api, lists):
    org = world.add(Organisation, name="Acme")
    body = {
        "first_name": "Ann",
        "last_name": "Lee",
        "organisation": world.local_id(Organisation, org),
        "title": world.local_id(Title, lists["title"]),
        "job_title": "Export Manager",
        "telephone_countrycode": "+44",
        "telephone_number": "0113 496 0000",
        "address_1": "2 High Street",
        "address_town": "Leeds",
        "address_postcode": "LS2 2BB",
        "country": world.local_id(Country, lists["country"]),
        "primary": True,
    }
    response = api.post(CONTACTS, body, format="json")
    assert response.status_code == 201, response.json()
    stored = world.get(Contact, world.key_of(response.json()))
    assert (stored["title"], stored["country"], stored["organisation"]) == (lists["title"], lists["country"], org)
    assert (stored["job_title"], stored["telephone_number"], stored["primary"]) == (
        "Export Manager",
        "0113 496 0000",
        True,
    )
    title_id = world.local_id(Title, lists["title"])
    found = api.get(CONTACTS, {"title": title_id, "primary": "true"}).json()["results"]
    assert [row["last_name"] for row in found] == ["Lee"]
    assert api.get(CONTACTS, {"job_title__icontains": "export"}).json()["count"] == 1
