"""Leases: at most one holder at a time for a piece of follower work, with a time-to-live.

A lease is taken by one conditional UPDATE (free, expired, or already ours), so two processes
racing for it cannot both win, on any database. A holder renews it as it makes progress; a
killed holder's lease expires after `CDMS_LEASE_SECONDS` and the next taker resumes from the
last checkpoint.
"""

import datetime as dt
import os
import socket
import threading
import uuid

from django.db.models import F, Q
from django.utils import timezone

from ..conf import cdms_settings
from .state import SweepPartition, Watermark


def holder_name():
    """A name for this thread of this process, unique across machines."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"


def lease_expiry():
    """When a lease or claim taken now expires."""
    return timezone.now() + dt.timedelta(seconds=cdms_settings.CDMS_LEASE_SECONDS)


def watermark(entity, using="default"):
    """The Watermark row of an entity (created when missing)."""
    row, _ = Watermark.objects.using(using).get_or_create(entity=entity)
    return row


def take_follow_lease(entity, holder, using="default"):
    """Take (or renew) the follower lease of an entity; True if `holder` now has it."""
    watermark(entity, using)
    free = Q(lease_holder="") | Q(lease_holder=holder) | Q(lease_expires__lt=timezone.now())
    taken = Watermark.objects.using(using).filter(free, entity=entity)
    return taken.update(lease_holder=holder, lease_expires=lease_expiry()) == 1


def release_follow_lease(entity, holder, using="default"):
    """Give the follower lease back (if `holder` still has it)."""
    Watermark.objects.using(using).filter(entity=entity, lease_holder=holder).update(
        lease_holder="", lease_expires=None
    )


def claim_partition(entities, holder, index=None, due_before=None, using="default"):
    """Claim the part of `entities`' sweeps listed longest ago (a given one, or any); returns it or None.

    Only a part not listed since `due_before` (None: any) and not claimed by another holder is
    taken; parts never listed come first, then the oldest listing.
    """
    now = timezone.now()
    open_parts = SweepPartition.objects.using(using).filter(entity__in=entities)
    open_parts = open_parts.filter(Q(claim_expires=None) | Q(claim_expires__lt=now) | Q(claimed_by=holder))
    if due_before is not None:
        open_parts = open_parts.filter(Q(listed_from=None) | Q(listed_from__lt=due_before))
    if index is not None:
        open_parts = open_parts.filter(index=index)
    for part in open_parts.order_by(F("listed_from").asc(nulls_first=True), "index")[:20]:
        # The claim and the listing it was taken on must both be unchanged: two racing workers
        # cannot both win, and a part another worker has just finished is not taken again.
        claimed = SweepPartition.objects.using(using).filter(
            pk=part.pk, claim_expires=part.claim_expires, listed_from=part.listed_from
        )
        if claimed.update(claimed_by=holder, claim_expires=lease_expiry()) == 1:
            part.refresh_from_db(using=using)
            return part
    return None


def renew_claim(part, holder, using="default"):
    """Extend `holder`'s claim on a sweep part; False if the claim was lost (expired and taken)."""
    claimed = SweepPartition.objects.using(using).filter(pk=part.pk, claimed_by=holder)
    return claimed.update(claim_expires=lease_expiry()) == 1


def release_claim(part, holder, using="default"):
    """Give back `holder`'s claim on a sweep part (its listing failed), so another may take it."""
    claimed = SweepPartition.objects.using(using).filter(pk=part.pk, claimed_by=holder)
    claimed.update(claimed_by="", claim_expires=None)
