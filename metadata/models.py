"""The reference lists: sectors, countries, UK regions, business types, ranges, titles, ... and teams.

Each list has a `name` (and a sector its parent sector). While the legacy CRM is live its
administrators own these lists: they are read here and never written (the mapping says so). Once
the CRM is retired they are ordinary tables, edited in the admin like any other.
"""

from django.db import models
from reversion import revisions as reversion

from core.fields import UKTIForeignKey
from core.managers import CRMManager
from core.models import CRMBaseModel


class ReferenceList(CRMBaseModel):
    """One entry of a reference list: a name."""

    name = models.CharField(max_length=100, blank=True)

    objects = CRMManager()

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self):
        return self.name or f"{self._meta.verbose_name} {self.pk}"


@reversion.register()
class Sector(ReferenceList):
    """A business sector; most belong to a broader parent sector."""

    parent = UKTIForeignKey("self", related_name="children")


@reversion.register()
class Country(ReferenceList):
    """A country."""

    class Meta(ReferenceList.Meta):
        verbose_name_plural = "countries"


@reversion.register()
class UKRegion(ReferenceList):
    """A region of the United Kingdom."""

    class Meta(ReferenceList.Meta):
        verbose_name = "UK region"


@reversion.register()
class BusinessType(ReferenceList):
    """A kind of company (private limited company, partnership, ...)."""


@reversion.register()
class EmployeeRange(ReferenceList):
    """A band of numbers of employees."""


@reversion.register()
class TurnoverRange(ReferenceList):
    """A band of annual turnover."""


@reversion.register()
class Title(ReferenceList):
    """A person's title (Mr, Dr, ...)."""


@reversion.register()
class ContactRole(ReferenceList):
    """The role a contact has in their organisation."""


@reversion.register()
class InteractionType(ReferenceList):
    """How an interaction happened (email, telephone, face to face, ...)."""


@reversion.register()
class Service(ReferenceList):
    """A service offered to companies."""


@reversion.register()
class ServiceDeliveryStatus(ReferenceList):
    """The state of a service delivery."""

    class Meta(ReferenceList.Meta):
        verbose_name_plural = "service delivery statuses"


@reversion.register()
class Team(ReferenceList):
    """A team of advisers (the CRM's business unit)."""

    name = models.CharField(max_length=160, blank=True)


# The lists in the order the API and the admin show them: (URL name, model).
LISTS = [
    ("sector", Sector),
    ("country", Country),
    ("uk-region", UKRegion),
    ("business-type", BusinessType),
    ("employee-range", EmployeeRange),
    ("turnover-range", TurnoverRange),
    ("title", Title),
    ("contact-role", ContactRole),
    ("interaction-type", InteractionType),
    ("service", Service),
    ("service-delivery-status", ServiceDeliveryStatus),
    ("team", Team),
]
