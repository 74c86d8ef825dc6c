"""Base models that outlive the legacy CRM.

`CRMBaseModel` is the only thing domain models inherit for CRM sync. While the CRM is live
it is a `CDMSModel` (saves and deletes go through the CRM); when the CRM is retired it
becomes a `TimeStampedModel` that keeps `cdms_pk`, the record's key in the old CRM, as a
plain column (docs/retiring-cdms.md). Nothing else in the domain apps changes.

Every save of a CRM model records a revision, in both worlds: inside a request or the admin
it joins theirs; anywhere else (a shell, a script, a task) `save()` opens its own (while the
CRM is live, the base's `save()` opens it, inside the transaction it shares with the CRM). The
sync layer adds its version only once the CRM accepted the write, so a synced save still
records exactly one revision.
"""

from django.db import models
from reversion import revisions as reversion

from migrator.models import CDMSModel  # the seam (docs/retiring-cdms.md)


class TimeStampedModel(models.Model):
    """A model that records when it was created and last modified."""

    created = models.DateTimeField(auto_now_add=True, null=True)
    modified = models.DateTimeField(auto_now=True, null=True)

    class Meta:
        abstract = True


class CRMBaseModel(CDMSModel):
    """Base of every model that is mirrored in the legacy CRM."""

    # The record's key in the CRM. Declared here (as CDMSModel does) so that it stays, as a
    # plain read-only column, API field and filter, when the base becomes TimeStampedModel.
    cdms_pk = models.CharField(max_length=36, unique=True, null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        """Save, in a revision of its own unless a revision block is already open."""
        # While the CRM is live, the base's save() opens that revision itself, inside the
        # transaction it shares with the CRM call.
        if reversion.is_active() or getattr(super(), "records_own_revision", False):
            return super().save(*args, **kwargs)
        with reversion.create_revision(using=kwargs.get("using")):
            return super().save(*args, **kwargs)
