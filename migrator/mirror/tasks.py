"""Celery tasks: the change follower, key sweeps and imports, split into parts any worker takes.

Every task is idempotent and acknowledged late (a task of a killed worker is delivered again
and does the same thing). Exclusive work is guarded by leases in the database, not by the
broker: one follower per entity at a time, one worker per sweep part or import window.
"""

import datetime as dt
import logging

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from ..cdms_migrator import registered_migrators
from ..conf import cdms_settings
from . import entities
from .follower import follow
from .import_windows import import_one_window
from .leases import holder_name
from .state import SweepPartition
from .sweep import plan, sweep_part

# Task names are what the broker and beat's schedule carry: kept as they were when the tasks lived
# in `migrator/tasks.py`, so that messages queued before an upgrade still find their task.
NAME_PREFIX = "migrator.tasks"
log = logging.getLogger("migrator.tasks")


def _model(entity):
    for migrator in registered_migrators():
        if migrator.service == entity:
            return migrator.model_class
    raise ValueError(f"{entity!r} is not a synced CRM entity")


@shared_task(name=f"{NAME_PREFIX}.follow_all", acks_late=True, reject_on_worker_lost=True)
def follow_all():
    """One follower round of every entity, parents first."""
    for migrator in entities.ordered():
        follow_entity(migrator.service)


@shared_task(name=f"{NAME_PREFIX}.follow_entity", acks_late=True, reject_on_worker_lost=True)
def follow_entity(entity):
    """One follower round of one entity (skipped if another follower holds its lease)."""
    result = follow(_model(entity), holder_name())
    return {"entity": entity, "leased": result.leased, "rows": result.rows}


@shared_task(name=f"{NAME_PREFIX}.sweep_all", acks_late=True, reject_on_worker_lost=True)
def sweep_all():
    """Queue the due parts of every entity's rolling sweep, oldest listing first (beat runs this often)."""
    for migrator in entities.ordered():
        plan(migrator.model_class)
    return _queue_due([migrator.service for migrator in entities.ordered()])


@shared_task(name=f"{NAME_PREFIX}.start_sweep", acks_late=True, reject_on_worker_lost=True)
def start_sweep(entity, partitions=None):
    """Plan the entity's sweep if needed and queue a task per part due and not being swept."""
    plan(_model(entity), partitions)
    return _queue_due([entity])


def _queue_due(names):
    """Queue the due parts of `names`, oldest listing first; returns how many were queued.

    A part is due when it was never listed, or listed `CDMS_SWEEP_INTERVAL` ago or more. At most
    `CDMS_SWEEP_CONCURRENCY` parts are swept at once (those claimed now count): a part takes a
    worker's slot for a minute or more, and the follower's rounds must still find free slots.
    """
    now = timezone.now()
    due_before = now - dt.timedelta(seconds=cdms_settings.CDMS_SWEEP_INTERVAL)
    parts = SweepPartition.objects.filter(entity__in=names)
    busy = parts.filter(claim_expires__gt=now).count()
    due = parts.filter(Q(listed_from=None) | Q(listed_from__lt=due_before))
    due = due.filter(Q(claim_expires=None) | Q(claim_expires__lt=now))
    budget = max(0, cdms_settings.CDMS_SWEEP_CONCURRENCY - busy)
    chosen = list(due.order_by(F("listed_from").asc(nulls_first=True), "entity", "index")[:budget])
    for part in chosen:
        sweep_partition.delay(part.entity, part.index, now.isoformat())
    return len(chosen)


@shared_task(
    name=f"{NAME_PREFIX}.sweep_partition", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None
)
def sweep_partition(self, entity, index, due_before=None):
    """Sweep one part unless it was listed since `due_before` (ISO time it was queued)."""
    moment = dt.datetime.fromisoformat(due_before) if due_before else timezone.now()
    part = sweep_part(_model(entity), holder_name(), index=index, due_before=moment)
    if part is not None:
        return part.removed
    waiting = SweepPartition.objects.filter(entity=entity, index=index, claim_expires__gt=timezone.now())
    if waiting.filter(Q(listed_from=None) | Q(listed_from__lt=moment)).exists():
        raise self.retry(countdown=cdms_settings.CDMS_LEASE_SECONDS)  # another worker's claim is alive
    return 0


@shared_task(name=f"{NAME_PREFIX}.import_window", acks_late=True, reject_on_worker_lost=True)
def import_window(entity, index):
    """Copy one window of the entity's import run (nothing if it is done already)."""
    return import_one_window(_model(entity), index)
