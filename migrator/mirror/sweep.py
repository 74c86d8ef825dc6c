"""Rolling key sweeps: find the local rows whose CRM records were deleted, and remove them.

CRM 2011's OData keeps no tombstones, so deletions are found by listing the keys that exist
(`$select` of the key only, 50 a page) and comparing them with the local keys. An entity's
local rows are planned once as partitions by `created` (the CRM's CreatedOn, which never
changes); each part lists the CRM's keys with CreatedOn in its range. A local key missing from
its part's listing is only a candidate: it is removed when a by-key request answers without it
(a listing raced by a create, or cut short, proves nothing).

The sweep rolls: parts are swept again and again, the one listed longest ago first, by as
many workers as there are (threads of `cdms_follow`, `--sweep-only` processes, Celery tasks),
and parts of different entities side by side. Each part keeps the moment its last complete
listing began (`listed_from`, this machine's clock), and the entity's delete watermark is the
oldest of them, less the overlap, once every part has one. So the watermark is never older
than one pass over the parts, a part cut short (a CRM outage, a killed worker) is listed again
from a new start instead of publishing an old one, and nothing waits for a whole sweep to end.
The plan is made again, with new bounds, when the configured number of parts changes or the
parts have grown lopsided (an import after a plan made on an empty table).
"""

import datetime as dt
import logging
import time

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from cdms_api import odata
from cdms_api.exceptions import CDMSError

from .. import fetch
from ..cdms_migrator import get_migrator
from ..conf import cdms_settings
from ..connection import get_client
from ..instruments import sync_source
from .leases import claim_partition, release_claim, renew_claim, watermark
from .removal import remove_gone
from .state import SweepPartition, Watermark

log = logging.getLogger("migrator.mirror.sweep")

# A part this much larger than an even share (and larger than a few pages) makes the entity
# re-plan after a pass: one huge part would bound the watermark by one worker's pace.
LOPSIDED = 2.0
MIN_ROWS_TO_SPLIT = 200
RENEWALS_PER_LEASE = 3


def plan(model, partitions=None, using="default"):
    """The parts of the entity's rolling sweep, planned now if it has none or they no longer fit."""
    entity = get_migrator(model).service
    partitions = partitions or cdms_settings.CDMS_SWEEP_PARTITIONS
    current = _parts(entity, using)
    if current and not _may_replan(current, partitions):
        return current
    bounds = _bounds(model, partitions, using)
    if _edges(current) == bounds:
        return current
    with transaction.atomic(using=using):
        watermark(entity, using)
        Watermark.objects.using(using).select_for_update().get(entity=entity)
        fresh = _parts(entity, using)
        if _edges(fresh) != _edges(current) or any(_claimed(part) for part in fresh):
            return fresh  # another worker planned meanwhile, or a part is being swept: later
        SweepPartition.objects.using(using).filter(entity=entity).delete()
        started = timezone.now()
        parts = [
            SweepPartition(entity=entity, sweep_started=started, index=i, low=low, high=high)
            for i, (low, high) in enumerate(bounds)
        ]
        return SweepPartition.objects.using(using).bulk_create(parts)


def _parts(entity, using):
    return list(SweepPartition.objects.using(using).filter(entity=entity).order_by("index"))


def _edges(parts):
    return [(part.low, part.high) for part in parts]


def _claimed(part):
    return part.claim_expires is not None and part.claim_expires > timezone.now()


def _may_replan(parts, partitions):
    """True when every part has been listed and they no longer fit: too few, too many, or lopsided."""
    if not all(part.listed_from for part in parts):
        return False  # the first pass is under way: the watermark waits for it, not for a new plan
    if len(parts) != partitions:
        return True  # a small table may get fewer: the bounds, compared, say whether it has grown
    total = sum(part.rows for part in parts)
    return total >= MIN_ROWS_TO_SPLIT and max(part.rows for part in parts) > LOPSIDED * total / partitions


def _bounds(model, partitions, using):
    """[low, high) ranges of `created` holding about as many local rows each (None: open end)."""
    created = model._base_manager.db_manager(using).exclude(created=None).order_by("created")
    total = created.count()
    cuts = []
    for i in range(1, partitions):
        at = total * i // partitions
        value = created.values_list("created", flat=True)[at : at + 1].first() if 0 < at < total else None
        if value is not None and (not cuts or value > cuts[-1]):
            cuts.append(value)
    edges = [None, *cuts, None]
    return list(zip(edges[:-1], edges[1:], strict=True))


def sweep_part(model, holder, index=None, using="default", due_before=None):
    """Claim and sweep one part listed before `due_before` (default: any); returns it, or None."""
    entity = get_migrator(model).service
    part = claim_partition([entity], holder, index, due_before, using)
    return _sweep_claimed(model, part, holder, using) if part is not None else None


def sweep_next(models, holder, due_before, using="default"):
    """Sweep the part of any of `models` listed longest ago, if before `due_before`; returns it, or None."""
    by_entity = {get_migrator(model).service: model for model in models}
    for model in models:
        plan(model, using=using)
    part = claim_partition(list(by_entity), holder, None, due_before, using)
    return _sweep_claimed(by_entity[part.entity], part, holder, using) if part is not None else None


def next_due(models, every, using="default"):
    """Seconds until a part of `models` is due again (listed `every` seconds ago); 0 if one is."""
    entities = [get_migrator(model).service for model in models]
    parts = SweepPartition.objects.using(using).filter(entity__in=entities)
    if not parts.exists() or parts.filter(listed_from=None).exists():
        return 0.0
    oldest = parts.aggregate(oldest=Min("listed_from"))["oldest"]
    return max(0.0, (oldest + dt.timedelta(seconds=every) - timezone.now()).total_seconds())


def sweep(model, holder, partitions=None, using="default"):
    """Sweep every part of the entity once (sharing them with other workers); returns rows removed."""
    plan(model, partitions, using)
    round_start = timezone.now()
    removed = 0
    while (part := sweep_part(model, holder, using=using, due_before=round_start)) is not None:
        removed += part.removed
    return removed


def _sweep_claimed(model, part, holder, using):
    started = timezone.now()
    try:
        with sync_source("sweep"):
            part.removed, part.rows = _sweep_range(model, part, holder, using)
    except BaseException as exc:
        release_claim(part, holder, using)
        if isinstance(exc, Exception):
            exc.cdms_entity = part.entity  # so a worker's report names the entity
        if isinstance(exc, CDMSError):
            Watermark.objects.using(using).filter(entity=part.entity).update(last_sweep_error=str(exc)[:2000])
        raise
    done = SweepPartition.objects.using(using).filter(pk=part.pk, claimed_by=holder)
    done.update(
        listed_from=started, done_at=timezone.now(), removed=part.removed, rows=part.rows, claimed_by="",
        claim_expires=None,
    )  # fmt: skip
    part.listed_from = started
    _publish(part.entity, using)
    return part


def _sweep_range(model, part, holder, using):
    """Sweep one part's range; returns (rows removed, local rows in the range)."""
    migrator = get_migrator(model)
    local = model._base_manager.db_manager(using).exclude(cdms_pk=None)
    in_range = Q()
    crm_filter = []
    if part.low is not None:
        in_range &= Q(created__gte=part.low)
        crm_filter.append(f"CreatedOn ge {odata.literal(part.low)}")
    if part.high is not None:
        in_range &= Q(created__lt=part.high)
        crm_filter.append(f"CreatedOn lt {odata.literal(part.high)}")
    if part.low is None and part.high is not None:
        in_range |= Q(created=None)  # never listed by a CreatedOn filter: checked by key below
    local_keys = set(local.filter(in_range).values_list("cdms_pk", flat=True))
    crm_keys = set()
    key = migrator.key_attribute
    pages = get_client().list(migrator.service, filter=" and ".join(crm_filter) or None, select=[key])
    renewed = time.monotonic()
    for page in pages:
        crm_keys.update(record[key].lower() for record in page)
        # A long part keeps its claim while it makes progress: renewed a few times a lease, not
        # once a page (a write each, which four sweepers on SQLite would queue behind).
        if time.monotonic() - renewed > cdms_settings.CDMS_LEASE_SECONDS / RENEWALS_PER_LEASE:
            renew_claim(part, holder, using)
            renewed = time.monotonic()
    return _remove_proven_gone(model, migrator, local_keys - crm_keys, using), len(local_keys)


def _remove_proven_gone(model, migrator, candidates, using):
    # Only the keys matter: a record found here is alive, and its changes are the follower's.
    gone = candidates - fetch.keys_present(migrator, candidates)
    return remove_gone(model, gone, using) if gone else 0


def _publish(entity, using):
    """Move the delete watermark to the oldest part's listing start, once every part has one."""
    parts = SweepPartition.objects.using(using).filter(entity=entity)
    if parts.filter(listed_from=None).exists():
        return
    oldest = parts.aggregate(oldest=Min("listed_from"))["oldest"]
    moment = oldest - dt.timedelta(seconds=cdms_settings.CDMS_FOLLOW_OVERLAP)
    rows = Watermark.objects.using(using).filter(entity=entity)
    moved = rows.filter(Q(deletions_until=None) | Q(deletions_until__lt=moment)).update(deletions_until=moment)
    rows.update(last_sweep_at=timezone.now(), last_sweep_error="")
    if moved:
        log.info("%s: key sweep of every part done; deletions applied until %s.", entity, moment)
