"""The OpenAPI schema validates without warnings, and the docs pages load no script from elsewhere."""

import re

import pytest
from django.core.management import call_command

from .users import make_user


def test_schema_generation_has_no_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for name in ("/api/v1/organisations/{id}/history/", "name__icontains", "last_verified__year", "organisation"):
        assert name in text
    for path in ("/api/v1/interactions/{id}/", "/api/v1/advisers/", "/api/v1/metadata/uk-region/", "sector__in"):
        assert path in text


@pytest.mark.django_db
def test_schema_is_served_to_signed_in_users(client):
    client.force_login(make_user("reader"))
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/v1/contacts/" in response.json()["paths"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_their_scripts_locally(client, url):
    client.force_login(make_user("reader"))
    page = client.get(url).content.decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    assert scripts
    assert all(src.startswith("/static/") for src in scripts), scripts
