"""The API is strict where silence would hurt: unknown parameters, oversized bodies, and the way in.

Every list endpoint in the URL configuration is checked, found as the landing page finds them
(`core.landing.list_endpoints`), so an endpoint added later is covered without being named here.
"""

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from rest_framework.test import APIClient

from core.api_filters import StrictFilterBackend
from core.landing import list_endpoints
from organisation.models import Organisation

from .users import token_client

ENDPOINTS = list_endpoints()
PATHS = [endpoint.path for endpoint in ENDPOINTS]


@pytest.fixture
def admin_api(db):
    """An API client signed in as a superuser, who may read every endpoint."""
    return token_client(User.objects.create_superuser("root", password="pw-root"))


def test_the_endpoints_are_found_from_the_url_configuration():
    assert {"/api/v1/organisations/", "/api/v1/contacts/"} <= set(PATHS)
    assert len(PATHS) == len(set(PATHS))


def _endpoint(path):
    return next(endpoint for endpoint in ENDPOINTS if endpoint.path == path)


def _filters(endpoint):
    """The names of the endpoint's filters (its filter set's, declared or made from `filterset_fields`)."""
    filterset = StrictFilterBackend().get_filterset_class(endpoint.view, endpoint.view.queryset)
    return sorted(filterset.base_filters) if filterset else []


def _exact_filter(endpoint):
    """A filter parameter of the endpoint that is a field's exact match and has no `__contains`, or None."""
    names = _filters(endpoint)
    return next((name for name in names if "__" not in name and f"{name}__contains" not in names), None)


@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_parameter_is_a_400_naming_it(world, admin_api, path):
    response = admin_api.get(path, {"colour": "red"})
    assert response.status_code == 400, (path, response.content)
    assert list(response.json()) == ["colour"]
    assert "Unknown parameter" in response.json()["colour"][0]


@pytest.mark.parametrize("path", PATHS)
def test_a_lookup_the_filter_set_does_not_offer_is_unknown(world, admin_api, path):
    field = _exact_filter(_endpoint(path)) or "id"
    response = admin_api.get(path, {f"{field}__contains": ""})
    assert response.status_code == 400, (path, response.content)
    assert list(response.json()) == [f"{field}__contains"]


@pytest.mark.parametrize("path", PATHS)
def test_paging_ordering_search_and_format_are_known(world, admin_api, path):
    paged = _endpoint(path).view.pagination_class is not None
    response = admin_api.get(
        path, {"ordering": "", "search": "", "format": "json", **({"page": 1, "page_size": 5} if paged else {})}
    )
    assert response.status_code == 200, (path, response.content)
    assert ("results" in response.json()) == paged


@pytest.mark.parametrize("path", PATHS)
def test_every_filter_the_endpoint_offers_is_known(world, admin_api, path):
    names = _filters(_endpoint(path))
    response = admin_api.get(path, dict.fromkeys(names, ""))
    assert response.status_code == 200, (path, response.content)


def test_the_list_endpoints_offer_filters():
    assert _filters(_endpoint("/api/v1/organisations/"))
    assert _exact_filter(_endpoint("/api/v1/organisations/")) == "alias"


def test_a_misspelt_filter_is_refused_with_the_nearest_name(world, admin_api):
    world.add(Organisation, name="Acme", city="Leeds")
    world.add(Organisation, name="Bolt", city="York")
    response = admin_api.get("/api/v1/organisations/", {"citty": "Leeds"})
    assert response.status_code == 400
    assert response.json()["citty"][0].endswith("Did you mean 'city'?")
    assert [
        row["name"] for row in admin_api.get("/api/v1/organisations/", {"city": "Leeds"}).json()["results"]
    ] == ["Acme"]


def test_several_unknown_parameters_are_each_named(world, admin_api):
    response = admin_api.get(
        "/api/v1/contacts/", {"colour": "red", "first_name__contains": "A", "last_name": "Lee"}
    )
    assert response.status_code == 400
    assert sorted(response.json()) == ["colour", "first_name__contains"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_size_limit_is_a_json_413_and_nothing_is_written(world, admin_api):
    response = admin_api.post("/api/v1/organisations/", {"name": "Acme", "alias": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is larger than the 1,000 bytes the service accepts; nothing was changed.",
        "code": "request_too_large",
    }
    assert world.count(Organisation) == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_within_the_size_limit_is_taken(world, admin_api):
    response = admin_api.post("/api/v1/organisations/", {"name": "Acme", "alias": "x" * 100}, format="json")
    assert response.status_code == 201, response.content
    assert world.count(Organisation) == 1


def test_the_root_lists_the_api_its_endpoints_the_docs_and_the_admin(db):
    page = APIClient().get("/")
    assert page.status_code == 200
    html = page.content.decode()
    for path in [*PATHS, "/api/v1/", "/api/docs/", "/api/schema/", "/admin/", "/api-auth/login/"]:
        assert f'href="{path}' in html, path
    as_json = APIClient().get("/", HTTP_ACCEPT="application/json").json()
    assert as_json["api"] == "http://testserver/api/v1/"
    assert sorted(as_json["endpoints"]) == sorted(PATHS)


def test_the_browsable_api_sign_in_leads_to_the_api_root(db):
    User.objects.create_user("ann", password="pw-ann")
    client = Client()  # a browser's form post
    assert client.get("/api-auth/login/").status_code == 200
    response = client.post("/api-auth/login/", {"username": "ann", "password": "pw-ann"})
    assert (response.status_code, response["Location"]) == (302, "/api/v1/")
