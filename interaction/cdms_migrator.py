"""How an Interaction maps to the CRM's `detica_interaction` activity (deleted when the CRM is retired).

Like every CRM activity it is keyed by `ActivityId`, not `<entity>Id`.
"""

from cdms_api import fields
from migrator.cdms_migrator import BaseCDMSMigrator


class InteractionMigrator(BaseCDMSMigrator):
    model = "interaction.Interaction"
    service = "detica_interaction"
    key = "ActivityId"
    fields = {
        "subject": fields.StringField("Subject"),
        "notes": fields.MemoField("optevia_Notes"),
        "date": fields.DateTimeField("ActualStart"),
        "interaction_type": fields.LookupField(
            "optevia_InteractionCommunicationChannel", "optevia_interactioncommunicationchannel"
        ),
        "adviser": fields.LookupField("optevia_Advisor", "SystemUser"),
        "contact": fields.LookupField("optevia_Contact", "Contact"),
        "organisation": fields.LookupField("optevia_Organisation", "Account"),
        "team": fields.LookupField("optevia_ServiceProvider", "BusinessUnit"),
        "service": fields.LookupField("optevia_Service", "optevia_service"),
    }
