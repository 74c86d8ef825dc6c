"""Celery tasks: the change follower, key sweeps and imports, split into parts any worker takes.

Every task is idempotent and acknowledged late (a task of a killed worker is delivered again
and does the same thing). Exclusive work is guarded by leases in the database, not by the
broker: one follower per entity at a time, one worker per sweep part or import window.
"""

import logging

from celery import shared_task

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
    """Start a key sweep of every entity."""
    for migrator in entities.ordered():
        start_sweep.delay(migrator.service)


@shared_task(name=f"{NAME_PREFIX}.start_sweep", acks_late=True, reject_on_worker_lost=True)
def start_sweep(entity, partitions=None):
    """Plan a key sweep (or join the one under way) and queue a task per open part."""
    parts = plan(_model(entity), partitions)
    for part in parts:
        if part.done_at is None:
            sweep_partition.delay(entity, part.index)
    return len(parts)


@shared_task(
    name=f"{NAME_PREFIX}.sweep_partition", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None
)
def sweep_partition(self, entity, index):
    """Sweep one part; retried later while another worker's claim on it is still alive."""
    part = sweep_part(_model(entity), holder_name(), index=index)
    if part is not None:
        return part.removed
    if SweepPartition.objects.filter(entity=entity, index=index, done_at=None).exists():
        raise self.retry(countdown=cdms_settings.CDMS_LEASE_SECONDS)
    return 0


@shared_task(name=f"{NAME_PREFIX}.import_window", acks_late=True, reject_on_worker_lost=True)
def import_window(entity, index):
    """Copy one window of the entity's import run (nothing if it is done already)."""
    return import_one_window(_model(entity), index)
