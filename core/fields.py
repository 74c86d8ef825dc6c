"""Model fields that outlive the legacy CRM."""

from django.db import models


class UKTIForeignKey(models.ForeignKey):
    """A foreign key between CRM-mirrored models.

    It is nullable and leaves the child in place when the parent is deleted, because
    the CRM holds records whose parent is empty or gone.
    """

    def __init__(self, to, on_delete=models.SET_NULL, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(to, on_delete=on_delete, **kwargs)
