"""Rows the CRM vouched for: the last moment each record was known to exist in the CRM.

A CRM answer that holds a record proves the record existed when the request was sent. Every
path that reads records from the CRM says so here, with that moment (this machine's clock, taken
before the request went out): a read's pages, the follower's pages, a check by key, the answer
to a write. A bounded read with bound S then checks by key only the rows it returns whose last
vouch is older than S: a record deleted in the CRM after its vouch was deleted less than S ago,
which is within the read's bound. So a list page viewed again within S costs no CRM request,
and a record deleted more than S ago is never shown (it has no vouch within S, so it is checked
and found gone).

One row per (entity, key), overwritten by the latest vouch (one statement per page). A vouch
recorded out of order can only move a row's moment back, which costs a check, never a miss.
A moment is recorded only where the caller knows when its request was sent; without one,
nothing is recorded and the row is simply checked again.
"""

import datetime as dt

from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..cdms_migrator import get_migrator
from ..local import alias_for_write


class Vouch(models.Model):
    """The latest moment (this machine's clock) a CRM answer showed the record `cdms_pk` of `entity`."""

    entity = models.CharField(max_length=100)
    cdms_pk = models.CharField(max_length=36)
    at = models.DateTimeField()

    class Meta:
        app_label = "migrator"
        constraints = [models.UniqueConstraint(fields=["entity", "cdms_pk"], name="one_vouch_per_record")]

    def __str__(self):
        return f"{self.entity} {self.cdms_pk} seen at {self.at:%Y-%m-%d %H:%M:%S}"


def vouch(model, keys, asked_at, using=None):
    """Record that the CRM answered with the records `keys` of `model` to a request sent at `asked_at`."""
    keys = sorted(set(keys))
    if not keys or asked_at is None:
        return
    entity = get_migrator(model).service
    rows = [Vouch(entity=entity, cdms_pk=key, at=asked_at) for key in keys]
    Vouch.objects.using(alias_for_write(model, using=using)).bulk_create(
        rows, update_conflicts=True, unique_fields=["entity", "cdms_pk"], update_fields=["at"]
    )


def unvouched(rows, bound, now=None):
    """The rows of the queryset `rows` that no CRM answer vouched for in the last `bound` seconds."""
    now = now or timezone.now()
    # Correlated, so each row costs one look-up in the (entity, cdms_pk) index, however many
    # vouches the table holds.
    recent = Vouch.objects.using(rows.db).filter(
        entity=get_migrator(rows.model).service,
        cdms_pk=OuterRef("cdms_pk"),
        at__gte=now - dt.timedelta(seconds=bound),
    )
    return rows.filter(~Exists(recent))
