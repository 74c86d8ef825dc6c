"""/healthz and /readyz: the CRM down, a stale or missing watermark, and readiness without a follower."""

import datetime as dt
import socket

import pytest
from django.utils import timezone

from cdms_api.counting import count_requests
from migrator.mirror.state import Watermark


def closed_port():
    """A local TCP port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def watermarks(**ages):
    """One Watermark per entity whose change watermark is that many seconds old."""
    now = timezone.now()
    for entity, seconds in ages.items():
        Watermark.objects.create(entity=entity, changes_until=now - dt.timedelta(seconds=seconds))


@pytest.fixture
def following(settings):
    """Bounded-staleness reads are on, and watermarks may be at most 60 s old."""
    settings.CDMS_MAX_STALENESS = 30
    settings.CDMS_READY_MAX_WATERMARK_AGE = 60


def test_healthz_answers_anyone_without_asking_the_crm(client, settings):
    settings.CDMS_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    with count_requests() as counter:
        response = client.get("/healthz")
    assert (response.status_code, response.json(), counter.count) == (200, {"status": "ok"}, 0)


def test_ready_when_the_crm_answers_and_no_follower_is_configured(client, cdms, settings):
    settings.CDMS_MAX_STALENESS = None
    with count_requests() as counter:
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert (body["status"], body["failed"], counter.count) == ("ready", [], 1)
    assert body["checks"]["crm"] == {"ok": True, "detail": cdms.base_url}
    assert body["checks"]["database"]["ok"] is True
    assert "not checked" in body["checks"]["watermarks"]["detail"]


def test_not_ready_with_503_naming_the_crm_when_it_is_down(client, db, settings):
    settings.CDMS_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    settings.CDMS_MAX_STALENESS = None
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert (body["status"], body["failed"]) == ("not ready", ["crm"])
    assert "CDMSConnectionError" in body["checks"]["crm"]["detail"]


def test_not_ready_when_the_crm_answers_with_an_error(client, cdms, settings):
    cdms.faults.add(status=503)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["crm"]


def test_ready_when_every_watermark_is_fresher_than_the_threshold(client, cdms, following):
    watermarks(Account=10, Contact=59)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["watermarks"]["detail"]["Account"]["changes_age_seconds"] >= 10


def test_not_ready_with_503_naming_the_stale_entity(client, cdms, following):
    watermarks(Account=10, Contact=600)
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["failed"] == ["watermarks"]
    assert body["checks"]["watermarks"]["detail"]["problem"] == (
        "change watermark older than 60 s or never set: Contact"
    )


def test_an_entity_the_follower_never_reached_is_not_ready(client, cdms, following):
    watermarks(Account=10)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["watermarks"]["detail"]["problem"].endswith(": Contact")


def test_both_failures_are_named_together(client, db, settings, following):
    settings.CDMS_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["crm", "watermarks"]
