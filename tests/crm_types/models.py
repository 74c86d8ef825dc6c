"""Models of CRM entities, written by `manage.py cdms_inspect`: keep the fields you need."""

from django.db import models
from reversion import revisions as reversion

from core.fields import OptionSetField, RecordReference, UKTIForeignKey
from core.managers import CRMManager
from core.models import CRMBaseModel

COLOURS = [(1, "Red"), (2, "Green"), (3, "Blue")]


@reversion.register()
class Widget(CRMBaseModel):
    """A record of the CRM's new_widget (entity set new_widgetSet)."""

    statecode = OptionSetField(null=True, blank=True)  # add the option labels as choices
    statuscode = OptionSetField(null=True, blank=True)  # add the option labels as choices
    owner = RecordReference()  # the document does not say what it refers to: any entity
    name = models.CharField(max_length=100, blank=True)
    notes = models.TextField(max_length=10000, blank=True)
    quantity = models.IntegerField(null=True, blank=True)
    big_count = models.BigIntegerField(null=True, blank=True)
    rate = models.DecimalField(max_digits=23, decimal_places=2, null=True, blank=True)
    weight = models.FloatField(null=True, blank=True)
    price = models.DecimalField(max_digits=19, decimal_places=4, null=True, blank=True)
    price_base = models.DecimalField(max_digits=19, decimal_places=4, null=True, blank=True)
    active = models.BooleanField(null=True, blank=True)
    delivered_on = models.DateTimeField(null=True, blank=True)
    colour = OptionSetField(choices=COLOURS, null=True, blank=True)
    parent_widget = UKTIForeignKey("self", related_name="widgets_by_parent_widget")
    account = UKTIForeignKey("organisation.Organisation", related_name="widgets_by_account")
    customer = RecordReference()
    external_key = models.CharField(max_length=36, null=True, blank=True)  # noqa: DJ001

    objects = CRMManager()


@reversion.register()
class Visit(CRMBaseModel):
    """A record of the CRM's new_visit (entity set new_visitSet)."""

    statecode = OptionSetField(null=True, blank=True)  # add the option labels as choices
    statuscode = OptionSetField(null=True, blank=True)  # add the option labels as choices
    owner = RecordReference()  # the document does not say what it refers to: any entity
    subject = models.CharField(max_length=200, blank=True)
    actual_start = models.DateTimeField(null=True, blank=True)
    regarding_object = RecordReference()

    objects = CRMManager()


@reversion.register()
class ReferenceWidget(Widget):
    """Widgets as a list the CRM owns: the same records, mapped read-only (`cdms_migrator`)."""

    class Meta:
        proxy = True
