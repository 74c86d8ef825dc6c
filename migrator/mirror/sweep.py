"""Key sweeps: find the local rows whose CRM records were deleted, and remove them.

CRM 2011's OData keeps no tombstones, so deletions are found by listing the keys that exist
(`$select` of the key only, 50 a page) and comparing them with the local keys. A sweep is
planned as partitions of the local rows by `created` (the CRM's CreatedOn, which never
changes), so several workers share one sweep; each part lists the CRM's keys with CreatedOn in
its range. A local key missing from its part's listing is only a candidate: it is removed
when a by-key request answers without it (a listing raced by a create, or cut short, proves
nothing). When every part of a sweep is done, the entity's delete watermark moves to the
time the sweep was planned, less the overlap.
"""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cdms_api import odata

from .. import fetch
from ..cdms_migrator import get_migrator
from ..conf import cdms_settings
from ..connection import get_client
from ..instruments import sync_source
from .leases import claim_partition, renew_claim, watermark
from .removal import remove_gone
from .state import SweepPartition, Watermark

log = logging.getLogger("migrator.mirror.sweep")


def plan(model, partitions=None, using="default"):
    """Start a new sweep of the model's entity unless one is under way; returns its parts."""
    entity = get_migrator(model).service
    partitions = partitions or cdms_settings.CDMS_SWEEP_PARTITIONS
    with transaction.atomic(using=using):
        watermark(entity, using)
        Watermark.objects.using(using).select_for_update().get(entity=entity)
        current = SweepPartition.objects.using(using).filter(entity=entity)
        if current.filter(done_at=None).exists():
            return list(current.order_by("index"))
        current.delete()
        started = timezone.now()
        bounds = _bounds(model, partitions, using)
        parts = [
            SweepPartition(entity=entity, sweep_started=started, index=i, low=low, high=high)
            for i, (low, high) in enumerate(bounds)
        ]
        return SweepPartition.objects.using(using).bulk_create(parts)


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


def sweep_part(model, holder, index=None, using="default"):
    """Claim and sweep one open part of the current sweep; returns it, or None if none is open."""
    entity = get_migrator(model).service
    part = claim_partition(entity, holder, index, using)
    if part is None:
        return None
    with sync_source("sweep"):
        part.removed = _sweep_range(model, part, holder, using)
    part.done_at = timezone.now()
    part.save(using=using, update_fields=["removed", "done_at"])
    _publish_if_complete(entity, part.sweep_started, using)
    return part


def sweep(model, holder, partitions=None, using="default"):
    """Plan (or join) a sweep and work on it until no part is open; returns rows removed."""
    plan(model, partitions, using)
    removed = 0
    while (part := sweep_part(model, holder, using=using)) is not None:
        removed += part.removed
    return removed


def _sweep_range(model, part, holder, using):
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
    for page in pages:
        crm_keys.update(record[key].lower() for record in page)
        renew_claim(part, holder, using)  # a long part keeps its claim while it makes progress
    return _remove_proven_gone(model, migrator, local_keys - crm_keys, using)


def _remove_proven_gone(model, migrator, candidates, using):
    # Only the keys matter: a record found here is alive, and its changes are the follower's.
    key = migrator.key_attribute
    found = {record[key].lower() for page in fetch.by_keys(migrator, candidates) for record in page}
    gone = candidates - found
    return remove_gone(model, gone, using) if gone else 0


def _publish_if_complete(entity, started, using):
    parts = SweepPartition.objects.using(using).filter(entity=entity, sweep_started=started)
    if parts.filter(done_at=None).exists():
        return
    moment = started - dt.timedelta(seconds=cdms_settings.CDMS_FOLLOW_OVERLAP)
    rows = Watermark.objects.using(using).filter(entity=entity)
    rows.filter(Q(deletions_until=None) | Q(deletions_until__lt=moment)).update(deletions_until=moment)
    rows.update(last_sweep_at=timezone.now(), last_sweep_error="")
    log.info("%s: key sweep complete; deletions applied until %s.", entity, moment)
