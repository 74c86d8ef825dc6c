"""How an Organisation maps to the CRM's Account (deleted when the CRM is retired)."""

from cdms_api import fields
from migrator.cdms_migrator import BaseCDMSMigrator


class OrganisationMigrator(BaseCDMSMigrator):
    model = "organisation.Organisation"
    service = "Account"
    fields = {
        "name": fields.StringField("Name"),
        "alias": fields.StringField("optevia_Alias"),
        "uk_organisation": fields.BooleanField("optevia_ukorganisation"),
        "email_address": fields.StringField("EMailAddress1"),
        "city": fields.StringField("Address1_City"),
        "postcode": fields.StringField("Address1_PostalCode"),
        "number_of_employees": fields.IntegerField("NumberOfEmployees"),
        "last_verified": fields.DateTimeField("optevia_LastVerified"),
    }
