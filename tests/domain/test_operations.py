"""The operations endpoints in either world: they outlive the CRM (`make retire-check` runs this)."""

from django.contrib.auth.models import User

from .users import token_client


def test_healthz_answers_anyone(db, client, world):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_when_everything_it_needs_answers(db, client, world):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert (body["status"], body["failed"]) == ("ready", [])
    assert body["checks"]["database"]["ok"] is True


def test_metrics_are_for_staff_only(db, client, world):
    assert client.get("/metrics").status_code == 401
    staff = User.objects.create_user("metrics-reader", password="pw-metrics", is_staff=True)
    response = token_client(staff).get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"# TYPE " in response.content


def test_every_answer_carries_a_request_id(db, client, world):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="probe-1")
    assert response["X-Request-ID"] == "probe-1"
