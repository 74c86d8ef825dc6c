"""The Interaction model (the CRM's activity `detica_interaction`)."""

from django.db import models
from reversion import revisions as reversion

from core.fields import UKTIForeignKey
from core.managers import CRMManager
from core.models import CRMBaseModel


@reversion.register()
class Interaction(CRMBaseModel):
    """A meeting, call or email between an adviser and a company's contact, about a service."""

    subject = models.CharField(max_length=200, blank=True)
    notes = models.TextField(max_length=2000, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    interaction_type = UKTIForeignKey("metadata.InteractionType", related_name="interactions")
    adviser = UKTIForeignKey("adviser.Adviser", related_name="interactions")
    contact = UKTIForeignKey("contact.Contact", related_name="interactions")
    organisation = UKTIForeignKey("organisation.Organisation", related_name="interactions")
    team = UKTIForeignKey("metadata.Team", related_name="interactions")
    service = UKTIForeignKey("metadata.Service", related_name="interactions")

    objects = CRMManager()

    class Meta:
        ordering = ["-date", "-id"]
        # The API's default order (newest first), the same within one organisation or contact
        # (a filtered list), and the timestamps the sync layer selects by.
        indexes = [
            models.Index(fields=["date", "id"], name="interaction_date_id"),
            models.Index(fields=["organisation", "date", "id"], name="interaction_org_date_id"),
            models.Index(fields=["contact", "date", "id"], name="interaction_contact_date_id"),
            models.Index(fields=["subject"], name="interaction_subject"),
            models.Index(fields=["created"], name="interaction_created"),
            models.Index(fields=["modified"], name="interaction_modified"),
        ]

    def __str__(self):
        return self.subject or f"Interaction {self.pk}"
