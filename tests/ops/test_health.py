"""/healthz and /readyz: the CRM down, a stale or missing watermark, and readiness without a follower."""

import datetime as dt
import socket

import pytest
from django.utils import timezone

from cdms_api.counting import count_requests
from migrator.mirror import entities
from migrator.mirror.state import Watermark


def closed_port():
    """A local TCP port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def watermarks(deletions=10, absent=(), **ages):
    """One Watermark per entity named whose change watermark is that many seconds old (deletions: all
    alike); every other entity but the `absent` ones has fresh watermarks, as a follower keeps them."""
    now = timezone.now()
    fresh = {name: (1, 10) for name in entities.entity_names() if name not in ages and name not in absent}
    for entity, (seconds, deleted) in {**{e: (s, deletions) for e, s in ages.items()}, **fresh}.items():
        Watermark.objects.create(
            entity=entity,
            changes_until=now - dt.timedelta(seconds=seconds),
            deletions_until=now - dt.timedelta(seconds=deleted),
        )


@pytest.fixture
def following(settings):
    """Bounded-staleness reads are on: change watermarks within 60 s, deletions within 600 s."""
    settings.CDMS_MAX_STALENESS = 60


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
    assert body["checks"]["crm"]["ok"] is True and body["checks"]["crm"]["detail"]["url"] == cdms.base_url
    assert abs(body["checks"]["crm"]["detail"]["crm_clock_skew_seconds"]) <= 2
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


def test_degraded_naming_the_stale_entity_and_what_reads_do_then_ready_again(client, cdms, following):
    watermarks(Account=10, Contact=600)
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200  # a load balancer keeps the node: its reads are answered, marked
    assert (body["status"], body["failed"], body["degraded"]) == ("degraded", [], ["watermarks"])
    detail = body["checks"]["watermarks"]["detail"]
    assert detail["problem"] == "change watermark past its bound or never set: Contact"
    assert detail["Contact"]["changes_bound_seconds"] == 60 and detail["Contact"]["changes_age_seconds"] >= 600
    assert detail["reads"].startswith(
        "strict for Contact where a strict read can answer; otherwise from the mirror"
    )
    Watermark.objects.filter(entity="Contact").update(changes_until=timezone.now())
    assert client.get("/readyz").json()["status"] == "ready"


def test_a_stale_delete_watermark_is_degraded_and_marks_only_counts(client, cdms, following):
    watermarks(Account=1, Contact=1, deletions=900)
    body = client.get("/readyz").json()
    assert body["status"] == "degraded"
    assert (
        "counts and offset pages of Account, Contact are marked stale"
        in body["checks"]["watermarks"]["detail"]["reads"]
    )


def test_not_ready_when_stale_reads_are_refused(client, cdms, following, settings):
    settings.CDMS_STALE_READS = "error"
    watermarks(Account=10, Contact=600)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["watermarks"]
    assert response.json()["checks"]["watermarks"]["detail"]["reads"].startswith("refused (503)")


def test_not_ready_past_the_readiness_limit_when_one_is_set(client, cdms, following, settings):
    settings.CDMS_READY_MAX_WATERMARK_AGE = 300
    watermarks(Account=10, Contact=600)
    assert client.get("/readyz").status_code == 503


def test_an_entity_the_follower_never_reached_is_degraded(client, cdms, following):
    watermarks(Account=10, absent=["Contact"])
    body = client.get("/readyz").json()
    assert body["status"] == "degraded"
    assert body["checks"]["watermarks"]["detail"]["problem"].endswith(": Contact")


def test_the_crm_down_with_reads_from_the_mirror_is_degraded(client, db, settings, following):
    settings.CDMS_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    watermarks(Account=1, Contact=1)
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["degraded"] == ["crm"]
    assert "writes fail" in response.json()["checks"]["crm"]["detail"]


def test_both_failures_are_named_together(client, db, settings, following):
    settings.CDMS_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    settings.CDMS_STALE_READS = "error"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["crm", "watermarks"]
