"""Every endpoint refuses anonymous users and users without the model permission for the method."""

import pytest
from rest_framework.test import APIClient

from organisation.models import Organisation

from .users import make_user, token_client

ORGS = "/api/v1/organisations/"


@pytest.fixture
def acme(world):
    return world.add(Organisation, name="Acme")


@pytest.fixture
def org_id(acme, api):
    return api.get(ORGS).json()["results"][0]["id"]


def calls(org_id):
    """(method, url, body) for every organisation endpoint."""
    item = f"{ORGS}{org_id}/"
    return [
        ("get", ORGS, None),
        ("post", ORGS, {"name": "New"}),
        ("get", item, None),
        ("put", item, {"name": "Put"}),
        ("patch", item, {"name": "Patched"}),
        ("delete", item, None),
        ("get", f"{item}history/", None),
    ]


def test_anonymous_is_refused_everywhere(org_id, acme, world):
    client = APIClient()
    for method, url, body in calls(org_id):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 401, (method, url)
    assert client.get("/api/v1/contacts/").status_code == 401
    assert world.get(Organisation, acme)["name"] == "Acme"
    assert world.count(Organisation) == 1


def test_user_without_permissions_is_refused_everywhere(org_id):
    client = token_client(make_user("nobody"))
    for method, url, body in calls(org_id):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (method, url)
    assert client.get("/api/v1/contacts/").status_code == 403


def test_view_permission_allows_reads_only(org_id, acme, world):
    client = token_client(make_user("reader", "view_organisation"))
    expected = {"get": 200, "post": 403, "put": 403, "patch": 403, "delete": 403}
    for method, url, body in calls(org_id):
        assert getattr(client, method)(url, body, format="json").status_code == expected[method], (method, url)
    assert client.get("/api/v1/contacts/").status_code == 403
    assert world.get(Organisation, acme)["name"] == "Acme"


@pytest.mark.parametrize(
    "perm, method, status",
    [
        ("add_organisation", "post", 201),
        ("change_organisation", "patch", 200),
        ("delete_organisation", "delete", 204),
    ],
)
def test_each_write_needs_its_own_permission(org_id, perm, method, status):
    client = token_client(make_user("writer", "view_organisation", perm))
    url = ORGS if method == "post" else f"{ORGS}{org_id}/"
    assert getattr(client, method)(url, {"name": "X"}, format="json").status_code == status


def test_session_authentication_works(org_id, client, editor):
    client.force_login(editor)
    assert client.get(ORGS).status_code == 200
