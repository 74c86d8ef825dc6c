"""Every list page the API and the admin serve reads an index in its order: no page sorts the table.

The page's own SELECT (the one with a LIMIT) is taken from a real request and explained by the
database; with sorting made as costly as the planner allows (PostgreSQL `enable_sort=off`),
a plan that still sorts has no index to read the order from.
"""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contact.models import Contact
from core import paging
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact

ORGANISATIONS = "/api/v1/organisations/"
CONTACTS = "/api/v1/contacts/"


@pytest.fixture
def rows(cdms):
    # More than one admin page of each, so that the changelists slice their pages too.
    keys = [seed_account(cdms, f"Org {i}", Address1_City="Leeds") for i in range(30)]
    for i in range(30):
        seed_contact(cdms, f"Ann {i}", account=keys[0])
    list(Contact.objects.all())
    return Organisation.objects.skip_cdms().get(cdms_pk=keys[0])


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    return client


def page_plan(client, url, params=None):
    """The database's plan of the page query that `url` ran."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    tables = ('"organisation_organisation"', '"contact_contact"')
    pages = [q["sql"] for q in queries if " LIMIT " in q["sql"] and any(t in q["sql"] for t in tables)]
    pages = [sql for sql in pages if "COUNT(" not in sql.upper()]
    assert pages, f"{url} ran no page query"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_sort = off")
            cursor.execute("EXPLAIN " + pages[-1])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_sort")
            return plan, "Sort" not in plan
        cursor.execute("EXPLAIN QUERY PLAN " + pages[-1])
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        return plan, "TEMP B-TREE" not in plan


ORGANISATION_ORDERINGS = [
    None,
    "name",
    "city",
    "postcode",
    "number_of_employees",
    "last_verified",
    "created",
    "modified",
    "-modified",
    "-created",
]


@pytest.mark.parametrize("ordering", ORGANISATION_ORDERINGS)
def test_an_organisation_page_reads_its_order_from_an_index(api, rows, ordering):
    plan, indexed = page_plan(api, ORGANISATIONS, {"ordering": ordering} if ordering else None)
    assert indexed, plan


@pytest.mark.parametrize("ordering", [None, "first_name", "last_name", "email_address", "created", "-modified"])
def test_a_contact_page_reads_its_order_from_an_index(api, rows, ordering):
    plan, indexed = page_plan(api, CONTACTS, {"ordering": ordering} if ordering else None)
    assert indexed, plan


def test_the_contacts_of_one_organisation_are_read_in_order_from_an_index(api, rows):
    plan, indexed = page_plan(api, CONTACTS, {"organisation": rows.pk})
    assert indexed, plan


@pytest.mark.parametrize("url", ["/admin/organisation/organisation/", "/admin/contact/contact/"])
def test_an_admin_changelist_reads_its_order_from_an_index(admin_client, rows, url):
    plan, indexed = page_plan(admin_client, url)
    assert indexed, plan


def explain(sql):
    """The plan of one statement, with sorting as costly as the planner allows."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_sort = off")
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET ALL")
            return plan
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_a_deep_page_reads_its_keys_from_the_index_alone_then_its_rows_by_key(api, rows, monkeypatch):
    monkeypatch.setattr(paging, "DEEP_OFFSET", 20)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(ORGANISATIONS, {"page_size": 10, "page": 3})
    expected = list(Organisation.objects.skip_cdms().order_by("name", "id").values_list("name", flat=True)[20:30])
    assert [row["name"] for row in response.json()["results"]] == expected
    keys = [q["sql"] for q in queries if q["sql"].startswith('SELECT "organisation_organisation"."id" AS "pk"')]
    assert len(keys) == 1 and "OFFSET 20" in keys[0]
    plan = explain(keys[0])
    assert ("Index Only Scan" in plan) if connection.vendor == "postgresql" else ("COVERING INDEX" in plan), plan


def test_a_shallow_page_is_one_statement(api, rows):
    with CaptureQueriesContext(connection) as queries:
        api.get(ORGANISATIONS, {"page_size": 10, "page": 3})
    assert not [q for q in queries if q["sql"].startswith('SELECT "organisation_organisation"."id" AS "pk"')]
