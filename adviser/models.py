"""The Adviser model (the CRM's system user): a person in a team who records interactions."""

from django.db import models
from reversion import revisions as reversion

from core.fields import UKTIForeignKey
from core.managers import CRMManager
from core.models import CRMBaseModel


@reversion.register()
class Adviser(CRMBaseModel):
    """A member of staff who works with companies and records interactions with them."""

    first_name = models.CharField(max_length=50, blank=True)
    last_name = models.CharField(max_length=50, blank=True)
    # The CRM's sign-in name, which holds the adviser's work email address.
    email = models.CharField(max_length=1024, blank=True)
    team = UKTIForeignKey("metadata.Team", related_name="advisers")

    objects = CRMManager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip() or f"Adviser {self.pk}"
