"""How an Adviser maps to the CRM's SystemUser (deleted when the CRM is retired).

The CRM's administrators own its users: the mapping is read-only.
"""

from cdms_api import fields
from migrator.cdms_migrator import BaseCDMSMigrator


class AdviserMigrator(BaseCDMSMigrator):
    model = "adviser.Adviser"
    service = "SystemUser"
    read_only = True
    fields = {
        "first_name": fields.StringField("FirstName"),
        "last_name": fields.StringField("LastName"),
        "email": fields.StringField("DomainName"),
        "team": fields.LookupField("BusinessUnitId", "BusinessUnit"),
    }
