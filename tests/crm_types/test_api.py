"""Every CRM attribute type through the API (filters, writes, domains, the OpenAPI schema) and the admin;
a list the CRM owns is read-only in both."""

import uuid

import pytest
from django.contrib.auth.models import User

from cdms_api.counting import count_requests
from tests.domain.users import token_client

from .models import Widget
from .test_sync import seed_contact, seed_widget

pytestmark = pytest.mark.urls("tests.crm_types.urls")
WIDGETS = "/api/v1/test/widgets/"


@pytest.fixture
def api(db):
    return token_client(User.objects.create_superuser("root", "root@example.test", "pw"))


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("admin", "admin@example.test", "pw"))
    return client


def test_each_type_filters_through_the_api_in_one_request(typed_crm, api):
    contact = seed_contact(typed_crm)
    seed_widget(
        typed_crm,
        "Typed",
        new_Colour={"Value": 7},
        new_Price={"Value": "12.5"},
        new_Weight=1.5,
        new_CustomerId={"Id": contact, "LogicalName": "contact"},
        new_BigCount=str(2**40),
    )
    seed_widget(typed_crm, "Plain", new_Colour={"Value": 1})
    for query in [
        "colour=7",
        "colour__in=7,8",
        "price__gte=12.5",
        "weight__lt=2",
        f"big_count={2**40}",
        f"customer=contact/{contact}",
    ]:
        with count_requests() as counter:
            response = api.get(f"{WIDGETS}?{query}")
        assert response.status_code == 200, (query, response.json())
        assert [row["name"] for row in response.json()["results"]] == ["Typed"], query
        assert counter.count == 1, query
    row = api.get(f"{WIDGETS}?colour=7").json()["results"][0]
    assert (row["colour"], row["price"], row["weight"], row["big_count"]) == (7, "12.5000", 1.5, 2**40)
    assert row["customer"] == f"contact/{contact}" and row["owner"].startswith("systemuser/")


def test_an_option_the_choices_lack_is_written_and_read_as_it_is(typed_crm, api):
    created = api.post(WIDGETS, {"name": "New", "colour": 42, "price": "3.50"}, format="json")
    assert created.status_code == 201, created.json()
    assert typed_crm.store.get("new_widget", created.json()["cdms_pk"])["new_Colour"] == {"Value": 42}
    changed = api.put(f"{WIDGETS}{created.json()['id']}/", {**created.json(), "name": "Renamed"}, format="json")
    assert changed.status_code == 200 and changed.json()["colour"] == 42


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"price": "1000000000000000"}, "price"),
        ({"weight": 1e12}, "weight"),
        ({"big_count": 2**63}, "big_count"),
        ({"colour": 2**31}, "colour"),
        ({"customer": "nobody"}, "customer"),
        ({"customer": f"lead/{uuid.uuid4()}"}, "customer"),
    ],
)
def test_a_value_the_crm_cannot_hold_is_a_400_naming_the_field(typed_crm, api, body, field):
    with count_requests() as counter:
        response = api.post(WIDGETS, {"name": "Bad", **body}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert counter.count == 0


def test_the_schema_states_each_types_shape_and_bounds(typed_crm, api):
    schema = api.get("/api/schema/?format=json").json()
    widget = schema["components"]["schemas"]["Widget"]["properties"]
    assert widget["colour"]["type"] == "integer" and "enum" not in widget["colour"]
    assert "1 (Red)" in widget["colour"]["description"]
    assert widget["weight"]["type"] == "number" and widget["weight"]["maximum"] == 100000000000.0
    assert widget["big_count"]["type"] == "integer"
    assert widget["customer"]["type"] == "string"
    parameters = {p["name"]: p for p in schema["paths"][WIDGETS]["get"]["parameters"]}
    colour, price = parameters["colour"]["schema"]["anyOf"][0], parameters["price__gte"]["schema"]["anyOf"][0]
    assert (colour["type"], colour["maximum"]) == ("integer", 2**31 - 1)
    assert (price["type"], price["maximum"]) == ("number", 922337203685477.0)


def test_a_list_the_crm_owns_is_read_but_a_write_is_a_405_before_the_crm(typed_crm, api):
    key = seed_widget(typed_crm, "Listed")
    listed = api.get("/api/v1/test/reference-widgets/").json()["results"]
    assert [row["cdms_pk"] for row in listed] == [key]
    with count_requests() as counter:
        created = api.post("/api/v1/test/reference-widgets/", {"name": "New"}, format="json")
        changed = api.patch(f"/api/v1/test/reference-widgets/{listed[0]['id']}/", {"name": "X"}, format="json")
        deleted = api.delete(f"/api/v1/test/reference-widgets/{listed[0]['id']}/")
    assert [r.status_code for r in (created, changed, deleted)] == [405, 405, 405]
    assert {r.json()["code"] for r in (created, changed, deleted)} == {"cdms_read_only"}
    assert [r.method for r in counter.requests] == ["GET", "GET"]  # the rows read, never written
    assert typed_crm.store.get("new_widget", key)["new_name"] == "Listed"


def test_the_admin_shows_an_option_the_choices_lack_and_keeps_it(typed_crm, admin_client):
    widget = Widget.objects.get(cdms_pk=seed_widget(typed_crm, "Odd", new_Colour={"Value": 7}))
    page = admin_client.get(f"/admin/crm_types/widget/{widget.pk}/change/").content.decode()
    assert '<option value="7" selected>7 (not among the choices)</option>' in page
    assert '<option value="1">Red</option>' in page


def test_the_admin_shows_a_list_the_crm_owns_read_only(typed_crm, admin_client):
    widget = Widget.objects.get(cdms_pk=seed_widget(typed_crm, "Listed"))
    index = admin_client.get("/admin/crm_types/referencewidget/").content.decode()
    assert "Listed" in index and "/admin/crm_types/referencewidget/add/" not in index
    change = admin_client.get(f"/admin/crm_types/referencewidget/{widget.pk}/change/").content.decode()
    assert 'name="name"' not in change  # shown, not editable
    response = admin_client.post(f"/admin/crm_types/referencewidget/{widget.pk}/change/", {"name": "X"})
    assert response.status_code == 403


def test_a_filter_value_outside_the_types_range_is_a_400_naming_it(typed_crm, api):
    with count_requests() as counter:
        response = api.get(f"{WIDGETS}?price__gte=1e20&weight__lt=1e12")
    assert response.status_code == 400 and set(response.json()) == {"price__gte", "weight__lt"}
    assert counter.count == 0


def test_a_change_of_an_attribute_the_crm_does_not_write_is_a_400_naming_it(typed_crm, api):
    widget = Widget.objects.get(cdms_pk=seed_widget(typed_crm, "Stateful", statecode={"Value": 0}))
    with count_requests() as counter:
        response = api.patch(f"{WIDGETS}{widget.pk}/", {"statecode": 1}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "cdms_value_refused"
    assert "Widget.statecode (attribute statecode)" in response.json()["detail"]
    assert [r.method for r in counter.requests] == ["GET"]  # the row read; nothing written
    assert typed_crm.store.get("new_widget", widget.cdms_pk)["statecode"] == {"Value": 0}
