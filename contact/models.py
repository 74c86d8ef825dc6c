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
    title = UKTIForeignKey("metadata.Title", related_name="contacts")
    job_title = models.CharField(max_length=100, blank=True)
    telephone_countrycode = models.CharField(max_length=10, blank=True)
    telephone_number = models.CharField(max_length=50, blank=True)
    address_1 = models.CharField(max_length=100, blank=True)
    address_2 = models.CharField(max_length=100, blank=True)
    address_3 = models.CharField(max_length=100, blank=True)
    address_4 = models.CharField(max_length=100, blank=True)
    address_town = models.CharField(max_length=100, blank=True)
    address_county = models.CharField(max_length=100, blank=True)
    address_postcode = models.CharField(max_length=20, blank=True)
    country = UKTIForeignKey("metadata.Country", related_name="contacts")
    primary = models.BooleanField(null=True, blank=True)

    objects = CRMManager()

    class Meta:
        ordering = ["last_name", "first_name"]
        # The API's default order (last name, first name, id), the same within one organisation
        # (a filtered list), each ordering field, and the timestamps the sync layer selects by.
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_id"),
            models.Index(fields=["organisation", "last_name", "first_name", "id"], name="contact_org_name_id"),
            models.Index(fields=["first_name"], name="contact_first_name"),
            models.Index(fields=["email_address"], name="contact_email"),
            models.Index(fields=["created"], name="contact_created"),
            models.Index(fields=["modified"], name="contact_modified"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip() or f"Contact {self.pk}"
