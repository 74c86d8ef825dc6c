"""The journal of write intents: what a CRM write will do, kept outside the transaction that makes it local.

Before each CRM write the writer records an intent here (`record`), on a connection of its own
that commits at once, so the intent survives the rollback of the write's transaction and the
death of its process. In the write's own transaction it then takes the intent (`take`), so
that the commit which makes the write local is also what marks the intent done:

- PostgreSQL: the journal is the `migrator_writeintent` table, written over a second
  connection; `take` deletes the intent's row in the write's transaction. Its commit removes
  the row; a rollback (or a dead process, whose transaction the server rolls back) brings it
  back. Until then the row is locked, and a settler skips locked rows (`SKIP LOCKED`), so an
  intent whose transaction is still open is never settled.
- SQLite lets one connection write at a time, and the write's transaction holds the database
  from its BEGIN: the journal is a file beside the database (`<name>.intents`), and `take`
  writes the intent's id into the database's own `migrator_writeintent` table (a receipt). An
  intent with a receipt was committed; one without is claimed under the database's write lock
  (so no write is half-way then).

Settling (`mirror.intents`) claims intents first (`claim`, `claim_left_over`): a claim is one
conditional UPDATE, so two processes never settle one intent; a claim expires after
CLAIM_SECONDS, so the intents of a settler that died are settled by the next one.

Each operation opens the journal's connection and closes it again: no connection outlives it,
so nothing is left open when a database is dropped or a process forks.
"""

import json
import logging
import os
import socket
import time
import uuid
from contextlib import contextmanager

from django.db import connections, transaction
from django.db.utils import load_backend

from ..exceptions import SyncError
from .state import WriteIntent

log = logging.getLogger("migrator.mirror.journal")

TABLE = WriteIntent._meta.db_table
COLUMNS = ("id", "created_at", "owner", "service", "record_key", "kind", "undo", "claimed_by", "claim_expires")
# Longer than any settlement's requests (each has its timeout), so a live settler keeps its claim.
CLAIM_SECONDS = 120

SQLITE_TABLE = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id varchar(36) NOT NULL PRIMARY KEY, created_at real NOT NULL, owner varchar(200) NOT NULL,
    service varchar(100) NOT NULL, record_key varchar(36) NOT NULL, kind varchar(10) NOT NULL,
    undo text NOT NULL, claimed_by varchar(200) NOT NULL, claim_expires real NULL, conflict text NOT NULL)"""


class IntentSettledError(SyncError):
    """An intent was settled by someone else before its write took it: the write stops before the CRM call."""


def owner_name():
    """Who records an intent: this machine and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def new_intent(service, key, kind, undo):
    """An intent (a dict, as `record` writes it) for a `kind` write of one CRM record."""
    return {
        "id": str(uuid.uuid4()),
        "created_at": time.time(),
        "owner": owner_name(),
        "service": service,
        "record_key": key,
        "kind": kind,
        "undo": undo,
    }


@contextmanager
def _journal(using):
    """A cursor on the journal of database `using`, on a connection of its own, in autocommit."""
    main = connections[using]
    settings = dict(main.settings_dict)  # the test database's name in tests
    if main.vendor == "sqlite":
        settings["NAME"] = f"{settings['NAME']}.intents"
    conn = load_backend(settings["ENGINE"]).DatabaseWrapper(settings, f"{using}-intents")
    try:
        with conn.cursor() as cursor:
            if main.vendor == "sqlite":
                cursor.execute(SQLITE_TABLE)
            yield cursor
    finally:
        conn.close()


def _marks(ids):
    return ", ".join(["%s"] * len(ids))


def record(using, intents):
    """Write intents to the journal, committed before this returns."""
    if not intents:
        return
    rows = [
        (i["id"], i["created_at"], i["owner"], i["service"], i["record_key"], i["kind"], json.dumps(i["undo"]))
        for i in intents
    ]
    with _journal(using) as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} (id, created_at, owner, service, record_key, kind, undo, claimed_by, "
            "claim_expires, conflict) VALUES (%s, %s, %s, %s, %s, %s, %s, '', NULL, '')",
            rows,
        )


def take(using, intents):
    """In the write's transaction: make its commit mark these intents done (see the module notes)."""
    if not intents:
        return
    ids = [i["id"] for i in intents]
    connection = connections[using]
    if connection.vendor == "sqlite":
        receipts = [WriteIntent(**{**i, "undo": "", "kind": "receipt"}) for i in intents]
        WriteIntent.objects.using(using).bulk_create(receipts)
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id IN ({_marks(ids)})", ids)
        if cursor.rowcount != len(ids):
            raise IntentSettledError(f"{len(ids) - cursor.rowcount} write intents were settled before their write")


def forget(using, ids):
    """Remove intents from the journal: settled, or their commit is known."""
    if ids:
        with _journal(using) as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id IN ({_marks(ids)})", list(ids))


def committed(using, ids):
    """After the commit that took these intents: on SQLite remove them from the journal now.

    Never raises: the write has committed, and the follower drops intents with a receipt anyway.
    """
    if ids and connections[using].vendor == "sqlite":
        try:
            forget(using, ids)
        except Exception as exc:
            log.warning("Could not remove %d committed write intents (the follower drops them): %s", len(ids), exc)


def claim(using, ids):
    """Claim the named intents for settling; returns the claimed ones (dicts), in the order named."""
    if not ids:
        return []
    found = _claim(using, f"id IN ({_marks(ids)})", list(ids))
    order = {key: n for n, key in enumerate(ids)}
    return sorted(found, key=lambda row: order[row["id"]])


def claim_left_over(using):
    """Claim every intent no open transaction holds and no write committed; newest first.

    On SQLite the intents whose write committed (they have a receipt) are removed with their
    receipts, and the others are claimed holding the database's write lock (so no write is
    half-way); a round with nothing left over takes no lock.
    """
    if connections[using].vendor != "sqlite":
        return _claim(using, "TRUE", [])
    # Read the receipts first: an intent is journalled before its receipt is written, so an
    # intent missing from the journal read next was settled or committed before; its receipt can go.
    receipts = set(WriteIntent.objects.using(using).values_list("id", flat=True))
    journalled = _journalled(using)
    forget(using, sorted(receipts & journalled))
    WriteIntent.objects.using(using).filter(id__in=receipts).delete()
    if not journalled - receipts:
        return []
    with transaction.atomic(using=using):
        receipts = set(WriteIntent.objects.using(using).values_list("id", flat=True))
        journalled = _journalled(using)
        forget(using, sorted(receipts & journalled))
        WriteIntent.objects.using(using).filter(id__in=receipts & journalled).delete()
        left = sorted(journalled - receipts)
        return sorted(claim(using, left), key=lambda row: row["created_at"], reverse=True) if left else []


def _journalled(using):
    with _journal(using) as cursor:
        cursor.execute(f"SELECT id FROM {TABLE}")
        return {key for (key,) in cursor.fetchall()}


def _claim(using, where, params):
    holder = f"{owner_name()}:{uuid.uuid4().hex[:8]}"
    now = time.time()
    free = f"conflict = '' AND (claim_expires IS NULL OR claim_expires < %s) AND {where}"
    with _journal(using) as cursor:
        if cursor.db.vendor == "postgresql":
            chosen = f"SELECT id FROM {TABLE} WHERE {free} FOR UPDATE SKIP LOCKED"
        else:
            chosen = f"SELECT id FROM {TABLE} WHERE {free}"
        cursor.execute(
            f"UPDATE {TABLE} SET claimed_by = %s, claim_expires = %s WHERE id IN ({chosen})",
            [holder, now + CLAIM_SECONDS, now, *params],
        )
        cursor.execute(
            f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE claimed_by = %s ORDER BY created_at DESC", [holder]
        )
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["undo"] = json.loads(row["undo"])
    return rows


def release(using, key):
    """Give a claimed intent back, to be settled by a later round."""
    with _journal(using) as cursor:
        cursor.execute(f"UPDATE {TABLE} SET claimed_by = '', claim_expires = NULL WHERE id = %s", [key])


def mark_conflict(using, key, why):
    """Keep an intent that could not be settled without overwriting someone else's change."""
    with _journal(using) as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET conflict = %s, claimed_by = '', claim_expires = NULL WHERE id = %s", [why, key]
        )


def conflicts(using="default"):
    """The intents kept in conflict, oldest first, as dicts (with `conflict`)."""
    with _journal(using) as cursor:
        cursor.execute(
            f"SELECT {', '.join(COLUMNS)}, conflict FROM {TABLE} WHERE conflict <> '' ORDER BY created_at", []
        )
        return [dict(zip((*COLUMNS, "conflict"), row, strict=True)) for row in cursor.fetchall()]


def clear(using="default"):
    """Remove every intent and receipt (a database emptied for a test starts with none)."""
    with _journal(using) as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
    if connections[using].vendor == "sqlite":
        WriteIntent.objects.using(using).all().delete()
