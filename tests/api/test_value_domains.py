"""Values the CRM cannot store are a 400 naming the field, before any CRM request; datetimes are UTC."""

import datetime as dt

import pytest

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSValueError
from organisation.models import Organisation
from tests.crm_records import seed_account, wire_date

ORGS = "/api/v1/organisations/"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("last_verified", "0146-01-01T00:00:00Z"),
        ("last_verified", "1752-12-31T23:59:59Z"),
        ("number_of_employees", 2**31),
        ("number_of_employees", -(2**31) - 1),
        ("number_of_employees", 2**70),
    ],
)
def test_a_create_outside_the_crms_domain_is_a_400_naming_the_field(cdms, api, field, value):
    with count_requests() as counter:
        response = api.post(ORGS, {"name": "Acme", field: value}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert counter.count == 0
    assert cdms.store.count("Account") == 0 and Organisation.objects.skip_cdms().count() == 0


def test_a_patch_outside_the_crms_domain_is_a_400_and_changes_nothing(cdms, api):
    created = api.post(ORGS, {"name": "Acme", "number_of_employees": 5}, format="json").json()
    with count_requests() as counter:
        response = api.patch(f"{ORGS}{created['id']}/", {"number_of_employees": 2**31}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["number_of_employees"]
    assert [r.method for r in counter.requests] == ["GET"]  # the record is read, never written
    assert cdms.store.get("Account", created["cdms_pk"])["NumberOfEmployees"] == 5
    assert Organisation.objects.skip_cdms().get().number_of_employees == 5


def test_the_edges_of_the_crms_domain_are_stored(cdms, api):
    body = {"name": "Acme", "number_of_employees": 2**31 - 1, "last_verified": "1753-01-01T00:00:00Z"}
    response = api.post(ORGS, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["last_verified"] == "1753-01-01T00:00:00Z"
    assert cdms.store.get("Account", response.json()["cdms_pk"])["NumberOfEmployees"] == 2**31 - 1


def test_a_save_outside_the_domain_raises_before_the_crm_is_asked(cdms):
    with count_requests() as counter, pytest.raises(CDMSValueError, match="NumberOfEmployees"):
        Organisation(name="Acme", number_of_employees=2**31).save()
    assert counter.count == 0
    assert Organisation.objects.skip_cdms().count() == 0 and cdms.store.count("Account") == 0


def test_old_datetimes_are_written_in_utc_with_a_z(cdms, api):
    seed_account(cdms, "Old", optevia_LastVerified=wire_date(dt.datetime(1800, 6, 1, 12, tzinfo=dt.UTC)))
    row = api.get(ORGS).json()["results"][0]
    assert row["last_verified"] == "1800-06-01T12:00:00Z"
    assert row["created"].endswith("Z")


@pytest.mark.parametrize(
    "query",
    ["name__icontains=" + "x" * 100_000, "name=" + "é" * 161, "city__iexact=" + "a" * 81, "search=" + "y" * 5000],
)
def test_a_filter_value_too_long_for_its_field_is_a_400_naming_it(cdms, api, query):
    with count_requests() as counter:
        response = api.get(f"{ORGS}?{query}")
    assert response.status_code == 400, response.content[:200]
    assert query.split("=")[0] in response.json()
    assert counter.count == 0


def test_a_filter_as_long_as_its_field_is_answered(cdms, api):
    seed_account(cdms, "n" * 160)
    assert api.get(f"{ORGS}?name__iexact={'N' * 160}").json()["count"] == 1


@pytest.mark.parametrize("value", ["ıstanbul", "IST", "ı"])
def test_a_filter_with_a_dotless_i_finds_what_the_local_database_finds(cdms, value):
    for city in ("Istanbul", "ıstanbul", "istanbul", "İstanbul", "Izmir", "Ankara"):
        seed_account(cdms, city, Address1_City=city)
    found = sorted(Organisation.objects.filter(city__icontains=value).values_list("city", flat=True))
    list(Organisation.objects.all())  # every record local now
    local = sorted(Organisation.objects.skip_cdms().filter(city__icontains=value).values_list("city", flat=True))
    assert found == local


def test_bulk_writes_outside_the_domain_are_refused_before_any_crm_write(cdms, caplog):
    Organisation.objects.create(name="Acme", number_of_employees=1)
    with count_requests() as counter, pytest.raises(CDMSValueError):
        Organisation.objects.bulk_create([Organisation(name="Big", number_of_employees=2**31)])
    with pytest.raises(CDMSValueError):
        Organisation.objects.filter(name="Acme").update(number_of_employees=2**31)
    assert [r.method for r in counter.requests if r.method != "GET"] == []
    assert Organisation.objects.skip_cdms().get().number_of_employees == 1 and cdms.store.count("Account") == 1
    assert "compensated" not in caplog.text  # nothing reached the CRM, so nothing was undone
