"""The admin lists and searches records, edits them, and shows and reverts old versions."""

import pytest
from reversion.models import Version

from contact.models import Contact
from organisation.models import Organisation


@pytest.fixture
def edited(world):
    """An organisation created and then renamed through the ORM (two versions)."""
    org = Organisation.objects.create(name="Old Name", city="Leeds")
    org = Organisation.objects.get(pk=org.pk)
    org.name = "New Name"
    org.save()
    return org


def form(**values):
    """The organisation change form's fields, empty but for `values`."""
    empty = {"name": "", "city": "", "alias": "", "email_address": "", "postcode": ""}
    return {**empty, "uk_organisation": "unknown", "number_of_employees": "", **values}


def test_changelist_shows_records_and_searches(world, admin_client):
    world.add(Organisation, name="Acme", city="Leeds")
    world.add(Organisation, name="Bolt", city="York")
    page = admin_client.get("/admin/organisation/organisation/?q=york").content.decode()
    assert "Bolt" in page and "Acme" not in page


def test_the_change_form_saves_to_the_system_of_record(world, admin_client):
    key = world.add(Organisation, name="Acme", city="Leeds")
    url = f"/admin/organisation/organisation/{world.local_id(Organisation, key)}/change/"
    assert "cdms_pk" in admin_client.get(url).content.decode()
    response = admin_client.post(url, form(name="Acme Renamed", city="York"))
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = world.get(Organisation, key)
    assert (stored["name"], stored["city"]) == ("Acme Renamed", "York")


def test_viewing_an_old_version_changes_nothing(edited, world, admin_client):
    old = Version.objects.get_for_object(edited).order_by("pk").first()
    response = admin_client.get(f"/admin/organisation/organisation/{edited.pk}/history/{old.pk}/")
    assert response.status_code == 200
    assert "Old Name" in response.content.decode()
    assert world.get(Organisation, world.key_of(edited))["name"] == "New Name"
    assert Organisation.objects.get(pk=edited.pk).name == "New Name"
    assert Version.objects.get_for_object(edited).count() == 2


def test_a_deleted_object_can_be_viewed_before_recovering_it(edited, world, admin_client):
    last = Version.objects.get_for_object(edited).first()
    edited.delete()
    response = admin_client.get(f"/admin/organisation/organisation/recover/{last.pk}/")
    assert response.status_code == 200
    assert "New Name" in response.content.decode()
    assert world.count(Organisation) == 0


def test_reverting_for_real_stores_the_old_values(edited, world, admin_client):
    old = Version.objects.get_for_object(edited).order_by("pk").first()
    url = f"/admin/organisation/organisation/{edited.pk}/history/{old.pk}/"
    response = admin_client.post(url, form(name="Old Name", city="Leeds"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert world.get(Organisation, world.key_of(edited))["name"] == "Old Name"
    assert Version.objects.get_for_object(edited).count() == 3


def test_contact_list_shows_the_organisation(world, admin_client):
    org = world.add(Organisation, name="Acme")
    world.add(Contact, first_name="Ann", last_name="Lee", organisation=org)
    page = admin_client.get("/admin/contact/contact/").content.decode()
    assert "Lee" in page and "Acme" in page
