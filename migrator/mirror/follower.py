"""The change follower: apply the CRM's changes to the local mirror in ModifiedOn order.

One round for one entity: take the entity's lease; read every record whose ModifiedOn is at
or after `cursor - overlap`, ordered by (ModifiedOn, key) and following `__next`; reconcile
each page with the monotonic upsert and checkpoint the cursor (the newest ModifiedOn applied)
in the same transaction.

Two clocks, never mixed. The cursor is a time on the CRM's clock: the newest ModifiedOn
applied, or the `Date` of the round's first answer, whichever is later; it is compared with
ModifiedOn only. The overlap is applied to the cursor, and covers equal timestamps at page
ends and CRM transactions that commit late. The watermark a complete round publishes is a time
on this machine's clock: the moment the round's first request was sent. Every change the CRM
committed before then was visible to that request, which asked for everything modified since
the cursor, so it is applied; the watermark is compared with this machine's `now` only. A CRM
clock minutes ahead of or behind this one therefore loses nothing, and a healthy follower's
watermark is as old as one round. The measured skew (the first answer's `Date` against this
machine's clock) is kept for operators.

Each round first settles the write intents a dead process left behind (`intents`): the CRM
writes whose local transaction never committed are undone before the round reads the changes.

At least once: a follower killed mid-round resumes from its last checkpoint and re-applies a
few pages, which the upsert ignores (equal `modified`). Neither the watermark nor the cursor
ever moves back.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import DateTimeField, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from cdms_api import odata
from cdms_api.exceptions import CDMSError

from .. import fetch
from ..cdms_migrator import get_migrator
from ..conf import cdms_settings
from ..connection import get_client
from ..exceptions import ObjectsNotInSyncError
from ..instruments import follower_round, sync_source
from .intents import settle_left_over
from .leases import lease_expiry, release_follow_lease, take_follow_lease, watermark
from .reconcile import reconcile_page
from .state import ImportCursor, Watermark

log = logging.getLogger("migrator.mirror.follower")


@dataclass
class FollowResult:
    """What one follower round of one entity did."""

    entity: str
    leased: bool = True
    pages: int = 0
    rows: int = 0
    conflicts: list = field(default_factory=list)
    watermark: dt.datetime | None = None


def follow(model, holder, using="default"):
    """Apply every CRM change since the entity's cursor; returns a FollowResult."""
    migrator = get_migrator(model)
    entity = migrator.service
    if not take_follow_lease(entity, holder, using):
        return FollowResult(entity, leased=False)
    try:
        with sync_source("follower"):
            result = _round(model, migrator, holder, using)
    except CDMSError as exc:
        Watermark.objects.using(using).filter(entity=entity).update(last_follow_error=str(exc)[:2000])
        raise
    finally:
        release_follow_lease(entity, holder, using)
    return result


def _round(model, migrator, holder, using):
    entity = migrator.service
    settle_left_over(using)  # CRM writes whose transaction died first: undone before the round reads
    overlap = dt.timedelta(seconds=cdms_settings.CDMS_FOLLOW_OVERLAP)
    since = _start_cursor(entity, using)
    result = FollowResult(entity)
    query = {"orderby": ["ModifiedOn", migrator.key_attribute], "select": fetch.selection(migrator)}
    if since is not None:
        query["filter"] = f"ModifiedOn ge {odata.literal(since - overlap)}"
    client = get_client()
    client.last_date = None
    started = timezone.now()  # this machine's clock, just before the round's first request
    first_answer = None
    for page in client.list(entity, **query):
        first_answer = first_answer or client.last_date
        if not _apply(model, entity, page, result, holder, using, started):
            log.warning("%s: lost the follower lease mid-round; stopping at the last checkpoint.", entity)
            result.leased = False
            return result
    result.watermark = started
    _publish(entity, started, first_answer, using)
    follower_round(entity, (timezone.now() - started).total_seconds())
    return result


def _start_cursor(entity, using):
    """The follower's cursor, or (before its first round) where the last import got to."""
    cursor = watermark(entity, using).cursor
    if cursor is None:
        imported = ImportCursor.objects.using(using).filter(entity=entity).first()
        cursor = imported.imported_until if imported else None
    return cursor


def _apply(model, entity, page, result, holder, using, asked_at):
    """Reconcile a page, then checkpoint the cursor and renew the lease in one statement.

    Returns False when the lease was lost meanwhile (another follower took it over).
    """
    if not page:
        return True
    newest = Value(max(odata.parse_date(record["ModifiedOn"]) for record in page), DateTimeField())
    with transaction.atomic(using=using):
        try:
            reconcile_page(model, page, asked_at=asked_at)
        except ObjectsNotInSyncError as exc:  # the rest of the page was written
            result.conflicts.extend(exc.keys)
            log.warning("%s", exc)
        held = Watermark.objects.using(using).filter(entity=entity, lease_holder=holder)
        renewed = held.update(cursor=Greatest(Coalesce("cursor", newest), newest), lease_expires=lease_expiry())
    result.pages += 1
    result.rows += len(page)
    return renewed == 1


def _publish(entity, moment, first_answer, using):
    """Move the watermark to `moment` (this machine's clock) and the cursor to the CRM's clock.

    The cursor moves up to the `Date` of the round's first answer, unless it is later already:
    every change the CRM stamped before that answer was read in this round, so the next round
    need not read again the records that share the newest ModifiedOn. Without a `Date` header
    the cursor stays at the newest ModifiedOn applied. The skew measured from that answer is
    kept for operators.
    """
    rows = Watermark.objects.using(using).filter(entity=entity)
    rows.filter(Q(changes_until=None) | Q(changes_until__lt=moment)).update(changes_until=moment)
    if first_answer is not None:
        crm_now = first_answer.crm
        rows.filter(Q(cursor=None) | Q(cursor__lt=crm_now)).update(cursor=crm_now)
        rows.update(crm_clock_skew=first_answer.skew_seconds)
    rows.update(last_follow_at=timezone.now(), last_follow_error="")
