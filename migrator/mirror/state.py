"""The sync layer's own state: watermarks, import cursors, sweep partitions, comparison runs, write intents.

These are the sync layer's bookkeeping, kept apart from `CDMSModel` (the base of the domain's
models) as Django keeps its migration recorder apart from `Model`. `migrator.models` imports
them so that Django finds them in the app's models module; the sync page's proxy model
(`SyncStatus`) is here too, because it is a view of `Watermark`.
"""

from django.db import models


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
    # Windows a Celery worker has started on: a run whose windows no worker takes is said so.
    windows_taken = models.JSONField(default=list, blank=True)
    # This machine's clock just before the run's first request: what a completed run publishes.
    run_planned_at = models.DateTimeField(null=True, blank=True)
    # The run lists every CRM key and the mirror held none of them when it was planned, so a
    # completed run leaves no deleted record behind: it publishes the delete watermark too.
    run_lists_every_key = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.entity} imported until {self.imported_until}"

    @property
    def run_in_progress(self):
        """True when a run was started and not finished."""
        return self.run_end is not None


class Watermark(models.Model):
    """How fresh the local mirror of one CRM entity is, as published by the change follower.

    Two clocks, never mixed. `changes_until` (this machine's clock): every CRM change made
    before it has been applied locally; it is the moment the last complete follower round sent
    its first request. `deletions_until` (this machine's clock): every CRM deletion made before
    it has been applied locally (the start of the last complete key sweep). Neither ever moves
    back. `cursor` (the CRM's clock) is the follower's position: the ModifiedOn it resumes from.
    `crm_clock_skew`: seconds the CRM's clock was ahead of this machine's (negative: behind) at
    the last round, from the `Date` of its answer.
    """

    entity = models.CharField(max_length=100, unique=True)
    cursor = models.DateTimeField(null=True, blank=True)
    crm_clock_skew = models.FloatField(null=True, blank=True)
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
    """One part of the rolling key sweep of one CRM entity: the local rows created in [low, high).

    The parts of an entity are planned once (`sweep_started`) and swept again and again by any
    worker (a thread, a `cdms_follow` process, a Celery task) that claims one for a
    time-to-live. `listed_from` (this machine's clock) is when the part's last complete listing
    began: every deletion before it of a record in its range has been applied. The entity's
    delete watermark is the oldest `listed_from` of its parts, less the overlap.
    """

    entity = models.CharField(max_length=100)
    sweep_started = models.DateTimeField()
    index = models.PositiveIntegerField()
    low = models.DateTimeField(null=True, blank=True)
    high = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    claim_expires = models.DateTimeField(null=True, blank=True)
    listed_from = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    removed = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)  # local rows in range at the last listing

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "index"], name="one_partition_per_index")]

    def __str__(self):
        return f"{self.entity} sweep {self.sweep_started:%Y-%m-%d %H:%M:%S} part {self.index}"


class ComparisonRun(models.Model):
    """One comparison of an entity's local table with the CRM, run in the background (the sync page's).

    `crm_rows_listed` of about `expected_rows` (the local rows when it began) shows its progress;
    `updated` moves with it, so a run whose process ended shows as interrupted. A finished run
    keeps the keys of the rows newer locally than in the CRM, and the drift's counts.
    """

    RUNNING, DONE, FAILED = "running", "done", "failed"

    entity = models.CharField(max_length=100)
    state = models.CharField(max_length=20, default=RUNNING)
    started = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    finished = models.DateTimeField(null=True, blank=True)
    expected_rows = models.PositiveIntegerField(default=0)
    crm_rows_listed = models.PositiveIntegerField(default=0)
    local_newer = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    def __str__(self):
        return f"{self.entity} comparison {self.started:%Y-%m-%d %H:%M:%S}: {self.state}"


class WriteIntent(models.Model):
    """A CRM write about to be made, and what undoes it (see `mirror.journal` and `mirror.intents`).

    Written outside the transaction of the write (so a rollback or a crash leaves it behind) and
    removed by the commit that makes the write local. `undo` is JSON: the requests that put the
    CRM back and the values that show the write is still as it was made. Times are seconds since
    the epoch (this machine's clock). A settlement that would overwrite someone else's change
    keeps the intent with `conflict` saying why, for an operator (the sync page lists them).
    """

    id = models.CharField(primary_key=True, max_length=36)
    created_at = models.FloatField()
    owner = models.CharField(max_length=200)
    service = models.CharField(max_length=100)
    record_key = models.CharField(max_length=36)
    kind = models.CharField(max_length=10)
    undo = models.TextField()
    claimed_by = models.CharField(max_length=200, blank=True)
    claim_expires = models.FloatField(null=True, blank=True)
    conflict = models.TextField(blank=True)

    def __str__(self):
        return f"{self.kind} {self.service} {self.record_key}"
