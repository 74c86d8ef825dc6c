"""core's error answers: an exception an app registers becomes its status, in the API (JSON) and on pages."""

import pytest
from django.db import transaction
from django.test import RequestFactory
from rest_framework.exceptions import NotFound
from reversion import revisions as reversion

from core import api_errors
from core.api_errors import Answer
from core.middleware import ErrorPageMiddleware


class Outage(Exception):
    pass


class SlowOutage(Outage):
    pass


@pytest.fixture
def registered():
    api_errors.register(Outage, Answer(503, "outage", "The thing is down.", title="The thing is down"))
    api_errors.register(SlowOutage, Answer(504, "slow", extra=lambda exc: {"why": "slow"}))
    yield
    api_errors.unregister(Outage)
    api_errors.unregister(SlowOutage)


def test_a_registered_exception_is_answered_with_its_status_and_code(registered):
    response = api_errors.exception_handler(Outage("boom"), {})
    assert (response.status_code, response.data) == (503, {"detail": "The thing is down.", "code": "outage"})
    assert response["Retry-After"] == str(api_errors.RETRY_AFTER_SECONDS)


def test_the_most_specific_registered_class_wins_and_detail_defaults_to_the_message(registered):
    response = api_errors.exception_handler(SlowOutage("took too long"), {})
    assert (response.status_code, response.data) == (
        504,
        {"detail": "took too long", "code": "slow", "why": "slow"},
    )
    assert not response.has_header("Retry-After")


def test_drf_exceptions_stay_drfs_and_others_stay_server_errors(registered):
    assert api_errors.exception_handler(NotFound(), {}).status_code == 404
    assert api_errors.exception_handler(KeyError("x"), {}) is None


def test_a_registered_failure_rolls_back_the_request_revision(registered, db):
    with transaction.atomic(), reversion.create_revision():
        api_errors.exception_handler(Outage("boom"), {})
        assert transaction.get_rollback()


def test_pages_answer_a_registered_failure_with_its_status_and_a_plain_page(registered):
    middleware = ErrorPageMiddleware(lambda request: None)
    request = RequestFactory().get("/admin/")
    response = middleware.process_exception(request, Outage("<b>"))
    assert response.status_code == 503
    assert "The thing is down (503)" in response.content.decode()
    assert middleware.process_exception(request, KeyError("x")) is None
