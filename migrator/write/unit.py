"""The caller's transaction is one unit with the CRM: a CRM write is undone when its block rolls back.

Django commits or rolls back in `Atomic.__exit__` and offers no hook for a rollback
(`on_commit` callbacks are dropped silently). So this module wraps `Atomic.__exit__` once, at
start-up (`install`), and keeps beside each database connection a ledger: the CRM writes made
inside the atomic blocks still open, each tagged with the depth of the block that owns it.

- The writer records an intent before each CRM call (`Intents.add`: the journal, outside the
  transaction, and taken in it; see `mirror.journal`). When its own block has committed into
  an enclosing one, the writes join the ledger at the caller's depth (`Intents.joined`).
- When a block exits, Django commits or releases it, or rolls it back (an exception, a CRM
  refusal of a later write, `set_rollback`, a failed commit). Then:
  - rolled back (its savepoint, or the whole transaction): every ledger write at its depth or
    deeper is undone now, newest first (`mirror.intents.settle`), before the exception reaches
    the caller;
  - released into an enclosing block: its writes now belong to that block;
  - committed (the outermost block): its writes are final, and the ledger forgets them.
- An inner `atomic(savepoint=False)` block has no rollback of its own: its writes go to the
  enclosing block, which Django then rolls back.

The blocks of Django's test cases (`_from_testcase`) stand for the database itself: leaving
the last block of the code under test counts as its commit.

If the process dies, the ledger dies with it; the journal's intents are settled by the
follower's next round instead. An undo the CRM cannot answer now is left to that round too.
"""

import logging

from django.db import connections, transaction

from ..mirror import intents as settlement
from ..mirror import journal

log = logging.getLogger("migrator.write.unit")

LEDGER = "_cdms_ledger"
OUTERMOST = object()


class Intents:
    """The intents of one write (or bulk write) on database `using`, from the CRM call to the commit."""

    def __init__(self, using):
        self.using = using
        self.made = []

    def add(self, service, key, kind, undo):
        """Record one intent before the CRM call, and take it in the current transaction."""
        self.add_many([journal.new_intent(service, key, kind, undo)])

    def add_many(self, intents):
        """Record intents before their CRM calls, and take them in the current transaction."""
        journal.record(self.using, intents)
        self.made.extend(intents)
        journal.take(self.using, intents)

    def joined(self):
        """The writer's block committed: its writes now belong to the caller's block, or are final."""
        connection = connections[self.using]
        depth = _caller_depth(connection)
        if depth == 0:
            journal.committed(self.using, [i["id"] for i in self.made])
        else:
            connection.__dict__.setdefault(LEDGER, []).extend((depth, intent) for intent in self.made)
        self.made = []

    def abandon(self):
        """The write failed and the CRM was left as it was: the intents are done with."""
        try:
            journal.forget(self.using, [i["id"] for i in self.made])
        except Exception as exc:  # the follower settles them instead
            log.warning("Could not remove the intents of a failed write (the follower settles them): %s", exc)
        self.made = []


def _caller_depth(connection):
    """The depth of the innermost block of the code under test or in production; 0 if none is open."""
    blocks = connection.atomic_blocks
    return len(blocks) if blocks and not blocks[-1]._from_testcase else 0


def install():
    """Wrap Django's `Atomic.__exit__` so that a rolled-back block undoes its CRM writes (once)."""
    if getattr(transaction.Atomic.__exit__, "cdms_unit", False):
        return
    django_exit = transaction.Atomic.__exit__

    def __exit__(self, exc_type, exc_value, traceback):  # noqa: N807 - Django's own method name
        connection = transaction.get_connection(self.using)
        if not connection.__dict__.get(LEDGER) or self._from_testcase:
            return django_exit(self, exc_type, exc_value, traceback)
        depth = len(connection.atomic_blocks)
        savepoint = connection.savepoint_ids[-1] if connection.savepoint_ids else OUTERMOST
        rolling = exc_type is not None or connection.needs_rollback or connection.closed_in_transaction
        try:
            result = django_exit(self, exc_type, exc_value, traceback)
        except BaseException:
            _block_ended(connection, connection.alias, depth, rolled_back=True)
            raise
        # A block without a savepoint leaves its rollback to the enclosing block, if there is one.
        own = savepoint is not None or not _caller_depth(connection)
        _block_ended(connection, connection.alias, depth, rolled_back=rolling and own)
        return result

    __exit__.cdms_unit = True
    transaction.Atomic.__exit__ = __exit__


def _block_ended(connection, using, depth, rolled_back):
    ledger = connection.__dict__[LEDGER]
    mine = [entry for entry in ledger if entry[0] >= depth]
    if not mine:
        return
    ledger[:] = [entry for entry in ledger if entry[0] < depth]
    if rolled_back:
        undo_now(using, [intent for _, intent in reversed(mine)])
        return
    parent = _caller_depth(connection)
    if parent:
        ledger.extend((parent, intent) for _, intent in mine)
    else:
        journal.committed(using, [intent["id"] for _, intent in mine])


def undo_now(using, intents):
    """Undo in the CRM, newest first, the writes of a block that rolled back."""
    try:
        claimed = journal.claim(using, [intent["id"] for intent in intents])
        outcomes = settlement.settle(using, claimed)
    except Exception as exc:  # the follower's next round settles what is left
        log.error("Undoing the CRM writes of a rolled-back block failed (the follower settles them): %s", exc)
        return
    log.warning("A block rolled back after %d CRM writes; undone in the CRM: %s", len(intents), outcomes)
