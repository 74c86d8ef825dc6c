"""The Contact model (the CRM's Contact)."""

from django.db import models
from reversion import revisions as reversion

from core.fields import UKTIForeignKey
from core.managers import CRMManager
from core.models import CRMBaseModel


@reversion.register()
class Contact(CRMBaseModel):
    """A person, usually working for an organisation."""

    first_name = models.CharField(max_length=50, blank=True)
    last_name = models.CharField(max_length=50, blank=True)
    email_address = models.EmailField(max_length=100, blank=True)
    organisation = UKTIForeignKey("organisation.Organisation", related_name="contacts")

    objects = CRMManager()

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip() or f"Contact {self.pk}"
