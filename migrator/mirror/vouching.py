"""Rows the CRM vouched for: the moments at which CRM answers showed each record.

A CRM answer that holds a record proves the record existed when the request was sent. Every
path that reads records from the CRM says so here, with that moment (this machine's clock, taken
before the request went out): a read's pages, the follower's pages, a check by key, the answer
to a write. A bounded read with bound S then checks by key only the rows it returns that have no
vouch within S: a record deleted in the CRM after its vouch was deleted less than S ago, which
is within the read's bound. So a list page viewed again within S costs no CRM request, and a
record deleted more than S ago is never shown (it has no vouch within S, so it is checked and
found gone).

Vouches are appended, never updated (one INSERT a page, no unique key): an upsert would lock a
row per record, and readers and writers of the same rows, inside their transactions, then
deadlock on them. Each process prunes an entity's vouches older than `HORIZON` at most once
a `PRUNE_EVERY`, outside any transaction. They are recorded only while bounded reads are
configured (`CDMS_MAX_STALENESS`): a strict read needs none. A moment is recorded only where the
caller knows when its request was sent; without one the row is simply checked again.
"""

import datetime as dt
import time

from django.db import connections, models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..cdms_migrator import get_migrator
from ..conf import cdms_settings
from ..local import alias_for_write

# Vouches older than this (or than CDMS_MAX_STALENESS, if longer) are pruned: a read bounded
# more loosely than the setting (`max_staleness(S)`) still finds those of the last ten minutes.
HORIZON = 600.0
PRUNE_EVERY = 60.0  # seconds between two prunings of one entity by one process
_pruned = {}  # (alias, entity): when this process last pruned it (time.monotonic())


class Vouch(models.Model):
    """A moment (this machine's clock) a CRM answer showed the record `cdms_pk` of `entity`."""

    entity = models.CharField(max_length=100)
    cdms_pk = models.CharField(max_length=36)
    at = models.DateTimeField()

    class Meta:
        app_label = "migrator"
        indexes = [models.Index(fields=["entity", "cdms_pk", "at"], name="vouch_by_record_and_moment")]

    def __str__(self):
        return f"{self.entity} {self.cdms_pk} seen at {self.at:%Y-%m-%d %H:%M:%S}"


def vouch(model, keys, asked_at, using=None):
    """Record that the CRM answered with the records `keys` of `model` to a request sent at `asked_at`."""
    keys = sorted(set(keys))
    if not keys or asked_at is None:
        return
    if cdms_settings.CDMS_MAX_STALENESS is None:
        return
    entity, using = get_migrator(model).service, alias_for_write(model, using=using)
    Vouch.objects.using(using).bulk_create([Vouch(entity=entity, cdms_pk=key, at=asked_at) for key in keys])
    _prune_now_and_then(entity, using)


def _prune_now_and_then(entity, using):
    if connections[using].in_atomic_block:
        return  # a DELETE inside someone's transaction would hold its row locks till the end
    now = time.monotonic()
    if now - _pruned.get((using, entity), float("-inf")) < PRUNE_EVERY:
        return
    _pruned[(using, entity)] = now
    horizon = max(cdms_settings.CDMS_MAX_STALENESS or 0.0, HORIZON)
    old = Vouch.objects.using(using).filter(entity=entity, at__lt=timezone.now() - dt.timedelta(seconds=horizon))
    old.delete()


def unvouched(rows, bound, now=None):
    """The rows of the queryset `rows` that no CRM answer vouched for in the last `bound` seconds."""
    now = now or timezone.now()
    # Correlated, so each row costs one look-up in the (entity, cdms_pk, at) index, however many
    # vouches the table holds.
    recent = Vouch.objects.using(rows.db).filter(
        entity=get_migrator(rows.model).service,
        cdms_pk=OuterRef("cdms_pk"),
        at__gte=now - dt.timedelta(seconds=bound),
    )
    return rows.filter(~Exists(recent))
