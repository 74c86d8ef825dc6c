"""The admin of the 2016 domain: lists as filters, lookups by autocomplete, long values that wrap."""

import datetime as dt
from pathlib import Path

from django.contrib.staticfiles import finders

from contact.models import Contact
from interaction.models import Interaction
from metadata.models import Country, Sector
from organisation.models import Organisation


def test_organisations_filter_by_a_reference_list(world, admin_client):
    software, energy = world.add(Sector, name="Software"), world.add(Sector, name="Energy")
    world.add(Organisation, name="Acme", sector=software)
    world.add(Organisation, name="Bolt", sector=energy)
    page = admin_client.get("/admin/organisation/organisation/").content.decode()
    assert "By sector" in page and "Software" in page and "Energy" in page
    filtered = admin_client.get(
        f"/admin/organisation/organisation/?sector__id__exact={world.local_id(Sector, software)}"
    )
    text = filtered.content.decode()
    assert filtered.status_code == 200 and "Acme" in text and "Bolt" not in text


def test_lookups_are_picked_by_autocomplete(world, admin_client):
    world.add(Sector, name="Software")
    world.add(Sector, name="Energy")
    form = admin_client.get("/admin/organisation/organisation/add/").content.decode()
    assert 'class="admin-autocomplete"' in form and 'data-field-name="sector"' in form
    found = admin_client.get(
        "/admin/autocomplete/",
        {"term": "soft", "app_label": "organisation", "model_name": "organisation", "field_name": "sector"},
    )
    assert found.status_code == 200
    assert [row["text"] for row in found.json()["results"]] == ["Software"]


def test_an_interaction_is_created_in_the_admin(world, admin_client):
    org = world.add(Organisation, name="Acme")
    contact = world.add(Contact, first_name="Ann", last_name="Lee", organisation=org)
    form = {
        "subject": "Export plan review",
        "date_0": "2016-03-01",
        "date_1": "09:30:00",
        "notes": "Talked about Germany.",
        "organisation": world.local_id(Organisation, org),
        "contact": world.local_id(Contact, contact),
    }
    response = admin_client.post("/admin/interaction/interaction/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    listed = admin_client.get("/admin/interaction/interaction/").content.decode()
    assert "Export plan review" in listed and "Acme" in listed
    assert world.count(Interaction) == 1


def test_long_values_wrap_in_lists(world, admin_client):
    world.add(Organisation, name="Acme " + "x" * 150, description="word " * 300)
    page = admin_client.get("/admin/organisation/organisation/").content.decode()
    assert "core/admin.css" in page
    css = Path(finders.find("core/admin.css")).read_text()
    assert "#result_list td" in css and "overflow-wrap: anywhere" in css


def test_a_reference_list_has_its_changelist(world, admin_client):
    world.add(Country, name="France")
    page = admin_client.get("/admin/metadata/country/")
    assert page.status_code == 200 and "France" in page.content.decode()


def test_an_interaction_dated_elsewhere_shows_in_the_admin(world, admin_client):
    world.add(Interaction, subject="Visit", date=dt.datetime(2016, 1, 2, tzinfo=dt.UTC))
    page = admin_client.get("/admin/interaction/interaction/?q=visit").content.decode()
    assert "Visit" in page
