"""Request ids and JSON logs: one JSON line per CRM request, carrying the id of the web request."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cdms_api.counting import count_requests
from core.ops.logs import JsonFormatter
from core.ops.request_id import RequestIdFilter, bound
from organisation.models import Organisation
from tests.crm_records import seed_account

ROOT = Path(__file__).resolve().parents[2]


class Lines(logging.Handler):
    """Keeps every record it handles, formatted as JSON."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestIdFilter())
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def crm_lines():
    """The JSON lines the CRM request log writes during the test."""
    logger = logging.getLogger("migrator.crm_requests")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_each_crm_request_of_a_web_request_logs_a_line_with_its_request_id(admin_client, cdms, crm_lines):
    seed_account(cdms, "Alpha")
    with count_requests() as counter:
        response = admin_client.get("/api/v1/organisations/", HTTP_X_REQUEST_ID="req-42.a")
    assert response["X-Request-ID"] == "req-42.a"
    assert len(crm_lines) == counter.count >= 1
    assert {line["request_id"] for line in crm_lines} == {"req-42.a"}
    first = crm_lines[0]
    assert (first["crm_method"], first["crm_entity"], first["crm_status"], first["crm_outcome"]) == (
        "GET",
        "Account",
        200,
        "ok",
    )
    assert first["logger"] == "migrator.crm_requests" and first["level"] == "INFO"


def test_a_request_without_a_sane_id_gets_a_new_one(admin_client, cdms, crm_lines):
    seed_account(cdms, "Alpha")
    response = admin_client.get("/api/v1/organisations/", HTTP_X_REQUEST_ID="bad id with spaces")
    request_id = response["X-Request-ID"]
    assert request_id != "bad id with spaces" and len(request_id) == 32
    assert {line["request_id"] for line in crm_lines} == {request_id}


def test_two_requests_get_different_ids(client, db):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_django_logs_a_refused_request_with_its_id(client, member, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    response = client.get("/api/v1/organisations/", HTTP_AUTHORIZATION=f"Token {member[1]}")
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.request_id == response["X-Request-ID"]


SCRIPT = """
import django
django.setup()
from core.ops.request_id import bound
from migrator.connection import get_client
with bound("task-7"):
    get_client().get("Account", "{key}")
"""


def test_log_format_json_writes_one_json_line_per_crm_request(cdms):
    key = seed_account(cdms, "Alpha")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "LOG_FORMAT": "json",
        "CDMS_BASE_URL": cdms.base_url,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(key=key)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["crm_method"], line["crm_entity"], line["request_id"]) for line in lines] == [
        ("GET", "Account", "task-7")
    ]


def test_an_unknown_log_format_stops_start_up_naming_the_variable():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings.test", "LOG_FORMAT": "xml", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", "import django; django.setup()"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "LOG_FORMAT='xml' is not one of: plain, json." in done.stderr


def test_the_concurrent_requests_of_a_bulk_write_carry_the_request_id(cdms, crm_lines, settings):
    settings.CDMS_WRITE_CONCURRENCY = 3
    with bound("bulk-9"):
        Organisation.objects.bulk_create([Organisation(name=f"Bulk {i}") for i in range(3)])
    posts = [line for line in crm_lines if line["crm_method"] == "POST"]
    assert len(posts) == 3
    assert {line["request_id"] for line in crm_lines} == {"bulk-9"}
