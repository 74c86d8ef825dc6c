"""Interactions through the API: created, read, changed and deleted with their lookups; filtered and ordered."""

import datetime as dt

import pytest

from adviser.models import Adviser
from contact.models import Contact
from interaction.models import Interaction
from metadata.models import InteractionType, Service, Team
from organisation.models import Organisation

INTERACTIONS = "/api/v1/interactions/"
WHEN = dt.datetime(2016, 3, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def scene(world):
    """A company with a contact, an adviser in a team, an interaction type and a service (keys by name)."""
    keys = {"team": world.add(Team, name="Trade - Leeds")}
    keys["org"] = world.add(Organisation, name="Acme")
    keys["contact"] = world.add(Contact, first_name="Ann", last_name="Lee", organisation=keys["org"])
    keys["adviser"] = world.add(Adviser, first_name="Bob", last_name="Day", team=keys["team"])
    keys["type"] = world.add(InteractionType, name="Telephone")
    keys["service"] = world.add(Service, name="Export Win")
    return keys


def ids(world, scene):
    """The API's ids of the scene's records, as an interaction's body names them."""
    return {
        "organisation": world.local_id(Organisation, scene["org"]),
        "contact": world.local_id(Contact, scene["contact"]),
        "adviser": world.local_id(Adviser, scene["adviser"]),
        "team": world.local_id(Team, scene["team"]),
        "interaction_type": world.local_id(InteractionType, scene["type"]),
        "service": world.local_id(Service, scene["service"]),
    }


def test_create_stores_the_interaction_with_its_lookups(world, api, scene):
    body = {"subject": "Export plan review", "notes": "Long talk.", "date": WHEN.isoformat(), **ids(world, scene)}
    response = api.post(INTERACTIONS, body, format="json")
    assert response.status_code == 201, response.json()
    stored = world.get(Interaction, world.key_of(response.json()))
    assert (stored["subject"], stored["notes"], stored["date"]) == ("Export plan review", "Long talk.", WHEN)
    assert (stored["organisation"], stored["contact"], stored["adviser"]) == (
        scene["org"],
        scene["contact"],
        scene["adviser"],
    )
    assert (stored["team"], stored["interaction_type"], stored["service"]) == (
        scene["team"],
        scene["type"],
        scene["service"],
    )


def test_an_interaction_made_elsewhere_is_listed_with_its_lookups_as_ids(world, api, scene):
    world.add(
        Interaction, subject="Call", date=WHEN, organisation=scene["org"], contact=scene["contact"],
        adviser=scene["adviser"], service=scene["service"],
    )  # fmt: skip
    row = api.get(INTERACTIONS).json()["results"][0]
    expected = ids(world, scene)
    assert row["subject"] == "Call"
    assert (row["organisation"], row["contact"], row["adviser"], row["service"]) == (
        expected["organisation"],
        expected["contact"],
        expected["adviser"],
        expected["service"],
    )
    assert row["team"] is None and row["interaction_type"] is None
    assert dt.datetime.fromisoformat(row["date"]) == WHEN


def test_patch_changes_a_lookup_and_delete_removes_the_interaction(world, api, scene):
    key = world.add(Interaction, subject="Call", organisation=scene["org"])
    row = api.get(INTERACTIONS).json()["results"][0]
    other = world.add(Organisation, name="Bolt")
    other_id = world.local_id(Organisation, other)
    response = api.patch(f"{INTERACTIONS}{row['id']}/", {"organisation": other_id, "contact": None}, format="json")
    assert response.status_code == 200, response.json()
    assert world.get(Interaction, key)["organisation"] == other
    assert api.delete(f"{INTERACTIONS}{row['id']}/").status_code == 204
    assert world.get(Interaction, key) is None
    assert world.count(Organisation) == 2


def test_a_lookup_to_no_such_row_is_a_400_naming_it(world, api, scene):
    response = api.post(INTERACTIONS, {"subject": "Call", "organisation": 999999}, format="json")
    assert response.status_code == 400
    assert "organisation" in response.json()
    assert world.count(Interaction) == 0


def test_history_of_an_interaction(world, api, scene):
    created = api.post(INTERACTIONS, {"subject": "Call"}, format="json").json()
    api.patch(f"{INTERACTIONS}{created['id']}/", {"subject": "Meeting"}, format="json")
    history = api.get(f"{INTERACTIONS}{created['id']}/history/").json()
    assert [v["fields"]["subject"] for v in history] == ["Meeting", "Call"]


@pytest.fixture
def three(world, scene):
    world.add(Interaction, subject="Call", date=WHEN, organisation=scene["org"], service=scene["service"])
    world.add(Interaction, subject="Visit", date=WHEN + dt.timedelta(days=400), contact=scene["contact"])
    world.add(Interaction, subject="Email follow-up", date=None, adviser=scene["adviser"])
    return scene


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["Visit", "Call", "Email follow-up"]),
        ("date__year=2016", ["Call"]),
        ("date__isnull=true", ["Email follow-up"]),
        ("subject__icontains=all", ["Call"]),
        ("search=visit", ["Visit"]),
        ("ordering=subject", ["Call", "Email follow-up", "Visit"]),
        ("organisation__isnull=false", ["Call"]),
        ("service__isnull=true&ordering=subject", ["Email follow-up", "Visit"]),
    ],
)
def test_interactions_filter_search_and_order(three, api, query, expected):
    response = api.get(f"{INTERACTIONS}?{query}")
    assert response.status_code == 200, response.json()
    subjects = [row["subject"] for row in response.json()["results"]]
    if query == "":  # newest first; the one without a date sorts where the database puts nulls
        assert [s for s in subjects if s != "Email follow-up"] == ["Visit", "Call"] and len(subjects) == 3
    else:
        assert subjects == expected


def test_interactions_filter_by_each_lookup(three, world, api):
    known = ids(world, three)
    for name, subject in [("organisation", "Call"), ("contact", "Visit"), ("adviser", "Email follow-up")]:
        rows = api.get(INTERACTIONS, {name: known[name]}).json()["results"]
        assert [row["subject"] for row in rows] == [subject], name
