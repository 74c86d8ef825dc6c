"""How a Contact maps to the CRM's Contact (deleted when the CRM is retired)."""

from cdms_api import fields
from migrator.cdms_migrator import BaseCDMSMigrator


class ContactMigrator(BaseCDMSMigrator):
    model = "contact.Contact"
    service = "Contact"
    fields = {
        "first_name": fields.StringField("FirstName"),
        "last_name": fields.StringField("LastName"),
        "email_address": fields.StringField("EMailAddress1"),
        "organisation": fields.LookupField("ParentCustomerId", "Account"),
    }
    navigation = {"organisation": "contact_customer_accounts"}
    parental = ("organisation",)
