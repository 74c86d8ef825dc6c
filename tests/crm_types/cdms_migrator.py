"""How the models map to the CRM, written by `manage.py cdms_inspect` (deleted with the CRM)."""

from cdms_api import fields
from migrator.cdms_migrator import BaseCDMSMigrator


class WidgetMigrator(BaseCDMSMigrator):
    model = "crm_types.Widget"
    service = "new_widget"
    fields = {
        "statecode": fields.OptionSetField("statecode"),
        "statuscode": fields.OptionSetField("statuscode"),
        "owner": fields.ReferenceField("OwnerId"),
        "name": fields.StringField("new_name"),
        "notes": fields.MemoField("new_Notes"),
        "quantity": fields.IntegerField("new_Quantity"),
        "big_count": fields.Int64Field("new_BigCount"),
        "rate": fields.DecimalField("new_Rate", precision=2),
        "weight": fields.DoubleField("new_Weight"),
        "price": fields.MoneyField("new_Price", precision=4),
        "price_base": fields.MoneyField("new_Price_Base", precision=4),
        "active": fields.BooleanField("new_Active"),
        "delivered_on": fields.DateTimeField("new_DeliveredOn"),
        "colour": fields.OptionSetField("new_Colour"),
        "parent_widget": fields.LookupField("new_ParentWidgetId", "new_widget"),
        "account": fields.LookupField("new_AccountId", "Account"),
        "customer": fields.ReferenceField("new_CustomerId", targets=("account", "contact")),
        "external_key": fields.GuidField("new_ExternalKey"),
    }


class VisitMigrator(BaseCDMSMigrator):
    model = "crm_types.Visit"
    service = "new_visit"
    key = "ActivityId"
    fields = {
        "statecode": fields.OptionSetField("statecode"),
        "statuscode": fields.OptionSetField("statuscode"),
        "owner": fields.ReferenceField("OwnerId"),
        "subject": fields.StringField("Subject"),
        "actual_start": fields.DateTimeField("ActualStart"),
        "regarding_object": fields.ReferenceField(
            "RegardingObjectId", targets=("account", "contact", "new_widget")
        ),
    }


class ReferenceWidgetMigrator(WidgetMigrator):
    model = "crm_types.ReferenceWidget"
    read_only = True
