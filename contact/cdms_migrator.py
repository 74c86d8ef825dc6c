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
        "organisation": fields.LookupField("ParentCustomerId", "Account", other_targets=["Contact"]),
        "title": fields.LookupField("optevia_Title", "optevia_title"),
        "job_title": fields.StringField("JobTitle"),
        "telephone_countrycode": fields.StringField("optevia_CountryCode"),
        "telephone_number": fields.StringField("optevia_TelephoneNumber"),
        "address_1": fields.StringField("optevia_Address1"),
        "address_2": fields.StringField("optevia_Address2"),
        "address_3": fields.StringField("optevia_Address3"),
        "address_4": fields.StringField("optevia_Address4"),
        "address_town": fields.StringField("optevia_TownCity"),
        "address_county": fields.StringField("optevia_StateCounty"),
        "address_postcode": fields.StringField("optevia_PostCode"),
        "country": fields.LookupField("optevia_Country", "optevia_country"),
        "primary": fields.BooleanField("optevia_PrimaryContact"),
    }
    navigation = {"organisation": "contact_customer_accounts"}
    parental = ("organisation",)
