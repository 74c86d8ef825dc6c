"""The Organisation model (the CRM's Account)."""

from django.db import models
from reversion import revisions as reversion

from core.fields import UKTIForeignKey
from core.managers import CRMManager
from core.models import CRMBaseModel


@reversion.register()
class Organisation(CRMBaseModel):
    """A company or other body that the organisation works with."""

    name = models.CharField(max_length=160, blank=True)
    alias = models.CharField(max_length=100, blank=True)
    uk_organisation = models.BooleanField(null=True, blank=True)
    email_address = models.EmailField(max_length=100, blank=True)
    city = models.CharField(max_length=80, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    number_of_employees = models.IntegerField(null=True, blank=True)
    last_verified = models.DateTimeField(null=True, blank=True)
    company_number = models.CharField(max_length=8, blank=True)
    registered_address_1 = models.CharField(max_length=100, blank=True)
    registered_address_2 = models.CharField(max_length=100, blank=True)
    registered_address_3 = models.CharField(max_length=100, blank=True)
    registered_address_4 = models.CharField(max_length=100, blank=True)
    registered_address_town = models.CharField(max_length=100, blank=True)
    registered_address_county = models.CharField(max_length=100, blank=True)
    registered_address_postcode = models.CharField(max_length=20, blank=True)
    description = models.TextField(max_length=2000, blank=True)
    website = models.CharField(max_length=200, blank=True)
    country = UKTIForeignKey("metadata.Country", related_name="organisations")
    uk_region = UKTIForeignKey("metadata.UKRegion", related_name="organisations")
    business_type = UKTIForeignKey("metadata.BusinessType", related_name="organisations")
    sector = UKTIForeignKey("metadata.Sector", related_name="organisations")
    employee_range = UKTIForeignKey("metadata.EmployeeRange", related_name="organisations")
    turnover_range = UKTIForeignKey("metadata.TurnoverRange", related_name="organisations")
    parent = UKTIForeignKey("self", related_name="subsidiaries")

    objects = CRMManager()

    class Meta:
        ordering = ["name"]
        # What the API, the admin and the sync layer order and filter by, so that no page sorts
        # the table: the API's default order (name, id), each of its ordering fields, and the
        # timestamps that follower rounds and key sweeps select by.
        indexes = [
            models.Index(fields=["name", "id"], name="organisation_name_id"),
            models.Index(fields=["city"], name="organisation_city"),
            models.Index(fields=["postcode"], name="organisation_postcode"),
            models.Index(fields=["number_of_employees"], name="organisation_employees"),
            models.Index(fields=["last_verified"], name="organisation_last_verified"),
            models.Index(fields=["created"], name="organisation_created"),
            models.Index(fields=["modified"], name="organisation_modified"),
            models.Index(fields=["company_number"], name="organisation_company_number"),
        ]

    def __str__(self):
        return self.name or f"Organisation {self.pk}"
