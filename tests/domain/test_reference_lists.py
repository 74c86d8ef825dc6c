"""Reference lists, teams and advisers: listed, filtered, searched, ordered, paged; never written by the API."""

import pytest

from adviser.models import Adviser
from metadata.models import LISTS, Country, Sector, Team

from .users import make_user, token_client

ADVISERS = "/api/v1/advisers/"


def url(name):
    return f"/api/v1/metadata/{name}/"


def names(response):
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


@pytest.fixture
def sectors(world):
    energy = world.add(Sector, name="Energy")
    world.add(Sector, name="Nuclear", parent=energy)
    world.add(Sector, name="Oil and Gas", parent=energy)
    world.add(Sector, name="Chemicals")
    return energy


@pytest.mark.parametrize("name, model", LISTS)
def test_every_list_has_its_endpoint(world, api, name, model):
    world.add(model, name=f"A {model.__name__}")
    rows = api.get(url(name)).json()["results"]
    assert [row["name"] for row in rows] == [f"A {model.__name__}"]
    assert {"id", "cdms_pk", "created", "modified", "name"} <= set(rows[0])


def test_a_sector_shows_its_parent_sector_as_an_id(sectors, world, api):
    rows = {row["name"]: row for row in api.get(url("sector")).json()["results"]}
    assert rows["Nuclear"]["parent"] == rows["Energy"]["id"]
    assert rows["Energy"]["parent"] is None


@pytest.mark.parametrize(
    "query, expected",
    [
        ("name=Nuclear", ["Nuclear"]),
        ("name__istartswith=o", ["Oil and Gas"]),
        ("parent__isnull=true", ["Chemicals", "Energy"]),
        ("search=gas", ["Oil and Gas"]),
        ("ordering=-name", ["Oil and Gas", "Nuclear", "Energy", "Chemicals"]),
        ("page_size=2", ["Chemicals", "Energy"]),
    ],
)
def test_sectors_filter_search_order_and_page(sectors, api, query, expected):
    assert names(api.get(f"{url('sector')}?{query}")) == expected


def test_sectors_filter_by_parent(sectors, world, api):
    energy_id = world.local_id(Sector, sectors)
    assert names(api.get(url("sector"), {"parent": energy_id, "ordering": "name"})) == ["Nuclear", "Oil and Gas"]
    assert names(api.get(url("sector"), {"parent__in": f"{energy_id},0", "ordering": "name"})) == [
        "Nuclear",
        "Oil and Gas",
    ]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_list_is_not_written_through_the_api(world, method):
    api = token_client(make_user("lists", *(f"{verb}_country" for verb in ("view", "add", "change", "delete"))))
    key = world.add(Country, name="France")
    country_id = world.local_id(Country, key)
    target = url("country") if method == "post" else f"{url('country')}{country_id}/"
    response = getattr(api, method)(target, {"name": "Germany"}, format="json")
    assert response.status_code == 405
    assert world.get(Country, key)["name"] == "France"
    assert world.count(Country) == 1


def test_a_list_entry_has_its_history(world, api):
    key = world.add(Country, name="France")
    country_id = world.local_id(Country, key)
    response = api.get(f"{url('country')}{country_id}/history/")
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_advisers_list_with_their_team_and_filter_by_it(world, api):
    trade, events = world.add(Team, name="Trade - Leeds"), world.add(Team, name="Events Team")
    world.add(Adviser, first_name="Ann", last_name="Lee", email="ann.lee@trade.example", team=trade)
    world.add(Adviser, first_name="Bob", last_name="Day", email="bob.day@trade.example", team=events)
    rows = api.get(ADVISERS, {"team__isnull": "false"}).json()["results"]  # the CRM has its own users too
    assert [row["last_name"] for row in rows] == ["Day", "Lee"]
    team_id = world.local_id(Team, trade)
    assert rows[1]["team"] == team_id
    by_team = api.get(ADVISERS, {"team": team_id}).json()["results"]
    assert [row["email"] for row in by_team] == ["ann.lee@trade.example"]
    assert [row["first_name"] for row in api.get(ADVISERS, {"search": "bob.day"}).json()["results"]] == ["Bob"]
    owner = token_client(make_user("owner", "view_adviser", "add_adviser"))
    assert owner.post(ADVISERS, {"first_name": "Cy"}, format="json").status_code == 405
    assert api.get(ADVISERS, {"first_name": "Cy"}).json()["count"] == 0


def test_a_filter_on_a_lookup_takes_only_whole_numbers(world, api):
    response = api.get(url("sector"), {"parent": "energy"})
    assert response.status_code == 400
    assert "parent" in response.json()
