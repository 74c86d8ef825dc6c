"""`CDMSModel`: the abstract base of every model mirrored in the legacy CRM.

It holds the CRM's key and timestamps and routes `save()` and `delete()` through the
CRM (see `write.writer`), unless `skip_cdms=True` or a `skip_cdms()` block says otherwise.
Its `save()` records a revision of its own when no revision block is open (the writer does,
inside the transaction it shares with the CRM call, so that a refused version is undone in
the CRM like any other local failure); `records_own_revision` tells the base classes so.
"""

from django.db import models
from reversion import revisions as reversion

from .context import is_skipping
from .credentials import CredentialRefusal
from .field_domains import check_values
from .managers import CDMSManager
from .mirror.state import ComparisonRun, ImportCursor, SweepPartition, SyncStatus, Watermark, WriteIntent
from .mirror.vouching import Vouch
from .write import writer
from .write.snapshot import take_snapshot

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

    # A save opens its own revision when none is open (see the module docstring).
    records_own_revision = True

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        """Load a row and remember its mapped values, to send only what changes."""
        instance = super().from_db(db, field_names, values)
        take_snapshot(instance)
        return instance

    def save(self, *args, skip_cdms=False, **kwargs):
        """Save locally and in the CRM, as one unit; `skip_cdms=True` saves locally only."""
        if not (skip_cdms or is_skipping()):
            check_values(self)
            return writer.save(self, **_keywords(args, SAVE_ARGUMENTS), **kwargs)
        if reversion.is_active():
            return super().save(*args, **kwargs)
        with reversion.create_revision(using=_keywords(args, SAVE_ARGUMENTS).get("using", kwargs.get("using"))):
            return super().save(*args, **kwargs)

    def delete(self, *args, skip_cdms=False, **kwargs):
        """Delete locally and in the CRM, as one unit; `skip_cdms=True` deletes locally only."""
        if skip_cdms or is_skipping():
            return super().delete(*args, **kwargs)
        return writer.delete(self, **_keywords(args, DELETE_ARGUMENTS), **kwargs)


__all__ = [
    "CDMSModel",
    "ComparisonRun",
    "CredentialRefusal",
    "ImportCursor",
    "SweepPartition",
    "SyncStatus",
    "Vouch",
    "Watermark",
    "WriteIntent",
]
