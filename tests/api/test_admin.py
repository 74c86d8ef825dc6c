"""The admin lists CRM records and shows old versions without any CRM request."""

import pytest
from django.contrib.auth.models import User
from reversion.models import Version

from cdms_api.counting import count_requests
from organisation.models import Organisation
from tests.crm_records import seed_account


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    return client


@pytest.fixture
def edited(cdms):
    """An organisation created and then renamed through the ORM (two versions)."""
    org = Organisation.objects.create(name="Old Name", city="Leeds")
    org = Organisation.objects.get(pk=org.pk)
    org.name = "New Name"
    org.save()
    return org


def test_changelist_shows_crm_records_and_searches(cdms, admin_client):
    seed_account(cdms, "Acme", Address1_City="Leeds")
    seed_account(cdms, "Bolt", Address1_City="York")
    page = admin_client.get("/admin/organisation/organisation/?q=york").content.decode()
    assert "Bolt" in page and "Acme" not in page


def test_viewing_an_old_version_makes_no_crm_request(edited, cdms, admin_client):
    old = Version.objects.get_for_object(edited).order_by("pk").first()
    url = f"/admin/organisation/organisation/{edited.pk}/history/{old.pk}/"
    with count_requests() as counter:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert "Old Name" in response.content.decode()
    assert counter.count == 0
    assert cdms.store.get("Account", edited.cdms_pk)["Name"] == "New Name"
    assert Organisation.objects.skip_cdms().get().name == "New Name"


def test_viewing_a_deleted_object_makes_no_crm_request(edited, cdms, admin_client):
    last = Version.objects.get_for_object(edited).first()
    edited.delete()
    with count_requests() as counter:
        response = admin_client.get(f"/admin/organisation/organisation/recover/{last.pk}/")
    assert response.status_code == 200
    assert "New Name" in response.content.decode()
    assert counter.count == 0
    assert cdms.store.count("Account") == 0
    assert not Organisation.objects.skip_cdms().exists()


def test_reverting_for_real_writes_the_old_values_to_the_crm(edited, cdms, admin_client):
    old = Version.objects.get_for_object(edited).order_by("pk").first()
    url = f"/admin/organisation/organisation/{edited.pk}/history/{old.pk}/"
    form = {"name": "Old Name", "city": "Leeds", "alias": "", "email_address": "", "postcode": ""}
    response = admin_client.post(url, {**form, "uk_organisation": "unknown", "number_of_employees": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert cdms.store.get("Account", edited.cdms_pk)["Name"] == "Old Name"


def test_contact_change_form_renders(cdms, admin_client):
    account = seed_account(cdms, "Acme")
    cdms.store.insert("Contact", {"FirstName": "Ann", "LastName": "Lee", "ParentCustomerId": {"Id": account}})
    page = admin_client.get("/admin/contact/contact/").content.decode()
    assert "Lee" in page and "Acme" in page


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ({"kind": "status", "status": 503, "count": 10}, 503),
        ({"kind": "html", "count": 10}, 502),
        ({"kind": "hang", "seconds": 3, "count": 10}, 504),
    ],
)
def test_a_crm_failure_in_the_admin_is_a_gateway_page(cdms, admin_client, settings, fault, status):
    settings.CDMS_TIMEOUT = 0.3
    seed_account(cdms, "Acme")
    cdms.faults.add(**fault)
    response = admin_client.get("/admin/organisation/organisation/")
    assert response.status_code == status
    assert "The CRM could not be reached" in response.content.decode()
