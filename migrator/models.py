"""`CDMSModel`: the abstract base of every model mirrored in the legacy CRM.

It holds the CRM's key and timestamps and routes `save()` and `delete()` through the
CRM (see `writes`), unless `skip_cdms=True` or a `skip_cdms()` block says otherwise.
"""

from django.db import models

from .context import is_skipping
from .managers import CDMSManager

# Django's positional parameters of Model.save() and Model.delete(), in order.
SAVE_ARGUMENTS = ("force_insert", "force_update", "using", "update_fields")
DELETE_ARGUMENTS = ("using", "keep_parents")


def _keywords(args, names):
    return dict(zip(names, args, strict=False))


class CDMSModel(models.Model):
    """A model whose rows are mirrored in the CRM."""

    cdms_pk = models.CharField(max_length=36, unique=True, null=True, blank=True, editable=False)
    cdms_version = models.BigIntegerField(null=True, blank=True, editable=False)
    created = models.DateTimeField(null=True, blank=True, editable=False)
    modified = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CDMSManager()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        """Load a row and remember its mapped values, to send only what changes."""
        instance = super().from_db(db, field_names, values)
        from .snapshot import take_snapshot

        take_snapshot(instance)
        return instance

    def save(self, *args, skip_cdms=False, **kwargs):
        """Save locally and in the CRM, as one unit; `skip_cdms=True` saves locally only."""
        if skip_cdms or is_skipping():
            return super().save(*args, **kwargs)
        from . import writes

        return writes.save(self, **_keywords(args, SAVE_ARGUMENTS), **kwargs)

    def delete(self, *args, skip_cdms=False, **kwargs):
        """Delete locally and in the CRM, as one unit; `skip_cdms=True` deletes locally only."""
        if skip_cdms or is_skipping():
            return super().delete(*args, **kwargs)
        from . import writes

        return writes.delete(self, **_keywords(args, DELETE_ARGUMENTS), **kwargs)


class ImportCursor(models.Model):
    """How far `cdms_import` has copied one CRM entity, and the progress of a run under way.

    `imported_until`: every CRM change with ModifiedOn before it has been copied (the cursor of
    the next incremental run). A run covers [run_start, run_end) in `run_windows` equal time
    windows; `windows_done` lists the indexes already written, so a crashed or interrupted run
    resumes with the others.
    """

    entity = models.CharField(max_length=100, unique=True)
    imported_until = models.DateTimeField(null=True, blank=True)
    run_start = models.DateTimeField(null=True, blank=True)
    run_end = models.DateTimeField(null=True, blank=True)
    run_windows = models.PositiveIntegerField(default=0)
    windows_done = models.JSONField(default=list, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.entity} imported until {self.imported_until}"

    @property
    def run_in_progress(self):
        """True when a run was started and not finished."""
        return self.run_end is not None


class Watermark(models.Model):
    """How fresh the local mirror of one CRM entity is, as published by the change follower.

    `changes_until`: every CRM change made before it has been applied locally (a time on
    this machine's clock, taken at the start of a follower poll minus the overlap window).
    `deletions_until`: every CRM deletion made before it has been applied locally (the
    start of the last complete key sweep). Neither ever moves back. `cursor` is the
    follower's position on the CRM's own clock (the ModifiedOn it resumes from).
    """

    entity = models.CharField(max_length=100, unique=True)
    cursor = models.DateTimeField(null=True, blank=True)
    changes_until = models.DateTimeField(null=True, blank=True)
    deletions_until = models.DateTimeField(null=True, blank=True)
    last_follow_at = models.DateTimeField(null=True, blank=True)
    last_follow_error = models.TextField(blank=True)
    last_sweep_at = models.DateTimeField(null=True, blank=True)
    last_sweep_error = models.TextField(blank=True)
    # One follower per entity at a time: a lease with a time-to-live, renewed after each page,
    # so a killed follower's lease expires and another takes over from the checkpoint.
    lease_holder = models.CharField(max_length=200, blank=True)
    lease_expires = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.entity}: changes until {self.changes_until}, deletions until {self.deletions_until}"


class SyncStatus(Watermark):
    """The admin's "CRM sync" page: watermarks, follower and sweep state, and rows in conflict."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "CRM sync"


class SweepPartition(models.Model):
    """One part of a key sweep of one CRM entity: the local rows created in [low, high).

    A sweep is planned as a set of partitions that any worker (a thread, a `cdms_follow`
    process, a Celery task) claims for a time-to-live and completes; when the last one of a
    sweep is done, the entity's delete watermark moves to the sweep's start.
    """

    entity = models.CharField(max_length=100)
    sweep_started = models.DateTimeField()
    index = models.PositiveIntegerField()
    low = models.DateTimeField(null=True, blank=True)
    high = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    claim_expires = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    removed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "index"], name="one_partition_per_index")]

    def __str__(self):
        return f"{self.entity} sweep {self.sweep_started:%Y-%m-%d %H:%M:%S} part {self.index}"
