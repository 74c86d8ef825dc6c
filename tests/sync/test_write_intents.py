"""The journal of write intents: claimed once, settled once, and given back when the CRM cannot answer."""

import time

from cdms_api.counting import count_requests
from migrator.mirror import intents, journal
from organisation.models import Organisation
from tests.crm_records import seed_account


def left_behind(key, kind="create", undo=None):
    """An intent as a process that died before its commit leaves it."""
    intent = journal.new_intent("Account", key, kind, undo or {"values": {"Name": "Acme"}})
    journal.record("default", [intent])
    return intent


def test_two_settlers_never_claim_one_intent(cdms):
    intent = left_behind(seed_account(cdms, "Acme"))
    first = journal.claim("default", [intent["id"]])
    assert [row["id"] for row in first] == [intent["id"]]
    assert journal.claim("default", [intent["id"]]) == []
    assert journal.claim_left_over("default") == []


def test_the_claim_of_a_settler_that_died_expires(cdms, monkeypatch):
    intent = left_behind(seed_account(cdms, "Acme"))
    journal.claim("default", [intent["id"]])
    later = time.time() + journal.CLAIM_SECONDS + 1
    monkeypatch.setattr(journal.time, "time", lambda: later)
    assert [row["id"] for row in journal.claim_left_over("default")] == [intent["id"]]


def test_a_left_over_create_is_deleted_once(cdms):
    key = seed_account(cdms, "Acme")
    intent = left_behind(key)
    with count_requests() as counter:
        assert intents.settle_left_over() == {intent["id"]: intents.UNDONE}
        assert intents.settle_left_over() == {}
    assert [r.method for r in counter.requests] == ["GET", "DELETE"]
    assert cdms.store.get("Account", key) is None


def test_an_undo_the_crm_cannot_answer_is_tried_again_by_the_next_round(cdms):
    key = seed_account(cdms, "Acme")
    older = left_behind(key)
    newer = left_behind(seed_account(cdms, "Other"), undo={"values": {"Name": "Other"}})
    cdms.faults.add(kind="status", status=503, count=10)
    outcome = intents.settle_left_over()
    assert outcome == {newer["id"]: intents.RETRY, older["id"]: intents.RETRY}  # the older waits its turn
    cdms.faults.clear()
    assert set(intents.settle_left_over().values()) == {intents.UNDONE}
    assert cdms.store.count("Account") == 0


def test_a_write_whose_intent_a_settler_took_first_stops_before_the_crm(cdms, monkeypatch):
    """PostgreSQL: a write takes its intent by deleting the row, and a settler that got there first wins.

    SQLite: no settler runs while a write holds the database, and the write's receipt, in its own
    transaction, tells the settler that it committed.
    """
    from django.db import connection

    from migrator.mirror.journal import IntentSettledError
    from migrator.mirror.state import WriteIntent

    if connection.vendor == "sqlite":
        org = Organisation.objects.create(name="Acme")
        assert WriteIntent.objects.filter(record_key=org.cdms_pk, kind="receipt").count() == 1
        return
    record = journal.record

    def record_then_settle(using, made):
        record(using, made)
        journal.claim(using, [i["id"] for i in made])
        journal.forget(using, [i["id"] for i in made])

    monkeypatch.setattr(journal, "record", record_then_settle)
    with count_requests() as counter:
        try:
            Organisation.objects.create(name="Acme")
        except IntentSettledError:
            pass
        else:
            raise AssertionError("the write went on without its intent")
    assert counter.count == 0
    assert not Organisation.objects.skip_cdms().exists()
