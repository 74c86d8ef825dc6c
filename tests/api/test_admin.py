"""CRM-only admin behaviour: old versions are shown without any CRM request; CRM failures are gateway pages.

What the admin does in both worlds is in tests/domain/test_admin.py.
"""

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


def test_a_crm_failure_in_the_admin_is_shown_in_the_admins_own_frame(cdms, admin_client, settings):
    seed_account(cdms, "Acme")
    cdms.faults.add(status=503, count=100)
    page = admin_client.get("/admin/organisation/organisation/").content.decode()
    assert 'id="site-name"' in page and 'class="breadcrumbs"' in page  # the admin's header and trail
    assert '<p class="errornote">The CRM is unavailable.</p>' in page


def test_a_read_too_large_in_the_admin_names_the_stale_watermark_in_the_frame(cdms, admin_client, settings):
    settings.CDMS_STALE_READS = "strict"
    settings.CDMS_MAX_STALENESS = 30
    settings.CDMS_SYNC_MAX_ROWS = 5
    for i in range(8):
        seed_account(cdms, f"Org {i}")
    response = admin_client.get("/admin/organisation/organisation/")
    page = response.content.decode()
    assert response.status_code == 400 and 'class="errornote"' in page
    assert "Account: the follower&#x27;s change watermark was never set" in page


def test_recovering_a_deleted_organisation_restores_it_on_both_sides_under_its_key(edited, cdms, admin_client):
    last = Version.objects.get_for_object(edited).first()
    key, pk = edited.cdms_pk, edited.pk
    edited.delete()
    url = f"/admin/organisation/organisation/recover/{last.pk}/"
    response = admin_client.post(url, {"name": "New Name", "city": "Leeds", "uk_organisation": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert cdms.store.get("Account", key)["Name"] == "New Name"
    recovered = Organisation.objects.skip_cdms().get()
    assert (recovered.pk, recovered.cdms_pk, recovered.name, recovered.city) == (pk, key, "New Name", "Leeds")
    assert recovered.modified is not None
