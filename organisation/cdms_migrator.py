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
        "company_number": fields.StringField("optevia_CompaniesHouseNumber"),
        "registered_address_1": fields.StringField("optevia_Address1"),
        "registered_address_2": fields.StringField("optevia_Address2"),
        "registered_address_3": fields.StringField("optevia_Address3"),
        "registered_address_4": fields.StringField("optevia_Address4"),
        "registered_address_town": fields.StringField("optevia_TownCity"),
        "registered_address_county": fields.StringField("optevia_StateCounty"),
        "registered_address_postcode": fields.StringField("optevia_PostCode"),
        "description": fields.MemoField("Description"),
        "website": fields.StringField("WebSiteURL"),
        "country": fields.LookupField("optevia_Country", "optevia_country"),
        "uk_region": fields.LookupField("optevia_UKRegion", "optevia_ukregion"),
        "business_type": fields.LookupField("optevia_BusinessType", "optevia_businesstype"),
        "sector": fields.LookupField("optevia_Sector", "optevia_sector"),
        "employee_range": fields.LookupField("optevia_EmployeeRange", "optevia_employeerange"),
        "turnover_range": fields.LookupField("optevia_TurnoverRange", "optevia_turnoverrange"),
        "parent": fields.LookupField("ParentAccountId", "Account"),
    }
