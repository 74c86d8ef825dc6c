"""How the reference lists map to the CRM's lists and business units (deleted when the CRM is retired).

The CRM's administrators own these records: every mapping is read-only, so a write is refused
before the CRM is asked, and reads and the follower bring them in.
"""

from cdms_api import fields
from migrator.cdms_migrator import BaseCDMSMigrator


def named(attribute="optevia_name", **others):
    """The fields of a list entry: its name (in `attribute`) and any `others`."""
    return {"name": fields.StringField(attribute), **others}


class SectorMigrator(BaseCDMSMigrator):
    model = "metadata.Sector"
    service = "optevia_sector"
    read_only = True
    fields = named(parent=fields.LookupField("optevia_ParentSector", "optevia_sector"))


class CountryMigrator(BaseCDMSMigrator):
    model = "metadata.Country"
    service = "optevia_country"
    read_only = True
    fields = named("optevia_Country")


class UKRegionMigrator(BaseCDMSMigrator):
    model = "metadata.UKRegion"
    service = "optevia_ukregion"
    read_only = True
    fields = named()


class BusinessTypeMigrator(BaseCDMSMigrator):
    model = "metadata.BusinessType"
    service = "optevia_businesstype"
    read_only = True
    fields = named()


class EmployeeRangeMigrator(BaseCDMSMigrator):
    model = "metadata.EmployeeRange"
    service = "optevia_employeerange"
    read_only = True
    fields = named()


class TurnoverRangeMigrator(BaseCDMSMigrator):
    model = "metadata.TurnoverRange"
    service = "optevia_turnoverrange"
    read_only = True
    fields = named()


class TitleMigrator(BaseCDMSMigrator):
    model = "metadata.Title"
    service = "optevia_title"
    read_only = True
    fields = named()


class ContactRoleMigrator(BaseCDMSMigrator):
    model = "metadata.ContactRole"
    service = "optevia_contactrole"
    read_only = True
    fields = named()


class InteractionTypeMigrator(BaseCDMSMigrator):
    model = "metadata.InteractionType"
    service = "optevia_interactioncommunicationchannel"
    read_only = True
    fields = named()


class ServiceMigrator(BaseCDMSMigrator):
    model = "metadata.Service"
    service = "optevia_service"
    read_only = True
    fields = named()


class ServiceDeliveryStatusMigrator(BaseCDMSMigrator):
    model = "metadata.ServiceDeliveryStatus"
    service = "optevia_servicedeliverystatus"
    read_only = True
    fields = named()


class TeamMigrator(BaseCDMSMigrator):
    model = "metadata.Team"
    service = "BusinessUnit"
    read_only = True
    fields = named("Name")
