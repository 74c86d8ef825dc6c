"""Settling write intents: put the CRM back as it was before a write whose transaction did not commit.

An intent (see `journal`) names one CRM record and how to undo the write made to it:

- create (`values`: the attributes posted): GET the record; gone, nothing to do; still holding
  `values`, DELETE it.
- update (`before`, `after`: the attributes merged, as they were and as sent): GET; holding
  `after`, MERGE `before`; holding `before`, nothing to do (the write never landed).
- delete (`values`, `children`: the record and what its delete took, as (service, key,
  attributes)): POST the record under its key, then each child under its key; one already
  there counts as done.

A record that holds neither what the write left nor what it found was changed by someone else
since: settling it would overwrite their change, so the intent is kept as a conflict (logged,
counted in `cdms_write_conflicts_total`, listed on the sync page) and nothing is sent. A record
gone since an update is left gone. A settlement the CRM cannot answer now (a timeout, a 5xx) is
given back to be tried by the next follower round (with every older intent of its batch); one the
CRM refuses is kept as a conflict.

Settling costs one GET and one DELETE or MERGE per create or update, and one POST per record
(and per child) of a delete. The same function settles the intents of a block rolled back in
this process (`write.unit`, at once) and those a dead process left (the follower, each round).
"""

import logging

from cdms_api.exceptions import CDMSBadRequestError, CDMSDuplicateKeyError, CDMSError, CDMSNotFoundError

from ..cdms_migrator import registered_migrators
from ..connection import get_client
from ..instruments import write_conflicts_total
from . import journal

log = logging.getLogger("migrator.mirror.intents")

UNDONE, NOTHING, RETRY = "undone", "nothing to undo", "retry"


def settle(using, intents):
    """Settle claimed intents in the order given (newest first); returns {intent id: outcome}.

    Undoing is unwinding a stack: an older write's undo may depend on a newer one's (a contact
    created, then taken by its organisation's delete, exists again only once the delete is
    undone). So at the first undo the CRM cannot answer now, the rest are given back too, and
    the next round starts again from there.
    """
    outcomes = {}
    for n, intent in enumerate(intents):
        outcomes[intent["id"]] = _settle_one(using, intent)
        if outcomes[intent["id"]] == RETRY:
            for later in intents[n + 1 :]:
                journal.release(using, later["id"])
                outcomes[later["id"]] = RETRY
            break
    return outcomes


def settle_left_over(using="default"):
    """Settle every intent left behind by a write whose transaction ended without committing."""
    return settle(using, journal.claim_left_over(using))


def _settle_one(using, intent):
    what = f"{intent['kind']} of {intent['service']} {intent['record_key']}"
    try:
        outcome = UNDO[intent["kind"]](get_client(), _migrator(intent["service"]), intent)
    except CDMSBadRequestError as exc:
        outcome = f"the CRM refused the undo: {exc}"
    except CDMSError as exc:
        log.warning("Undoing the %s failed; the next follower round tries again: %s", what, exc)
        journal.release(using, intent["id"])
        return RETRY
    if outcome in (UNDONE, NOTHING):
        journal.forget(using, [intent["id"]])
        log.info("The %s did not commit locally; in the CRM: %s", what, outcome)
        return outcome
    journal.mark_conflict(using, intent["id"], outcome)
    write_conflicts_total.labels(intent["service"]).inc()
    log.error("CONFLICT: the %s did not commit locally, and was left in the CRM: %s", what, outcome)
    return outcome


def _migrator(service):
    return next(m for m in registered_migrators() if m.service == service)


def _undo_create(client, migrator, intent):
    record = _current(client, migrator, intent)
    if record is None:
        return NOTHING
    if not holds(migrator, record, intent["undo"]["values"]):
        return "changed in the CRM since it was created; not deleted"
    try:
        client.delete(migrator.service, intent["record_key"])
    except CDMSNotFoundError:
        return NOTHING
    return UNDONE


def _undo_update(client, migrator, intent):
    undo = intent["undo"]
    record = _current(client, migrator, intent)
    if record is None:
        return NOTHING
    if holds(migrator, record, undo["after"]):
        client.update(migrator.service, intent["record_key"], undo["before"])
        return UNDONE
    if holds(migrator, record, undo["before"]):
        return NOTHING
    return "changed in the CRM since it was updated; the old values were not put back"


def _undo_delete(client, migrator, intent):
    undo = intent["undo"]
    made = _recreate(client, migrator.service, intent["record_key"], undo["values"])
    for service, key, body in undo["children"]:
        made = _recreate(client, service, key, body) or made
    return UNDONE if made else NOTHING


def _recreate(client, service, key, body):
    try:
        client.create(service, body, key=key)
    except CDMSDuplicateKeyError:
        return False
    return True


def _current(client, migrator, intent):
    try:
        return client.get(migrator.service, intent["record_key"])
    except CDMSNotFoundError:
        return None


def holds(migrator, record, body):
    """Whether a CRM record holds every attribute value of a body (compared as model values)."""
    fields = {field.cdms_name: field for field in migrator.fields.values()}
    return all(fields[name].from_cdms(record.get(name)) == fields[name].from_cdms(v) for name, v in body.items())


UNDO = {"create": _undo_create, "update": _undo_update, "delete": _undo_delete}
