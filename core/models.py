"""Base models that outlive the legacy CRM.

`CRMBaseModel` is the only thing domain models inherit for CRM sync. While the CRM
is live it is a `CDMSModel`; when the CRM is retired it becomes a `TimeStampedModel`
and nothing else in the domain apps changes.
"""

from django.db import models

from migrator.models import CDMSModel


class TimeStampedModel(models.Model):
    """A model that records when it was created and last modified."""

    created = models.DateTimeField(auto_now_add=True, null=True)
    modified = models.DateTimeField(auto_now=True, null=True)

    class Meta:
        abstract = True


class CRMBaseModel(CDMSModel):
    """Base of every model that is mirrored in the legacy CRM."""

    class Meta:
        abstract = True
