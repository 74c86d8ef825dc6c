"""`CDMSManager`: the default manager of synced models, built from `CDMSQuerySet`."""

from django.db import models

from .read.queryset import CDMSQuerySet


class CDMSManager(models.Manager.from_queryset(CDMSQuerySet)):
    """Manager whose querysets read and write through the CRM."""
