"""The emulated CRM's entities and attributes, declared once as data.

Everything else (storage columns, wire conversion, `$metadata`, `$filter` typing, navigation
properties) is derived from these declarations, so adding an attribute is a one-line change.
"""

from dataclasses import dataclass, field

STRING, MEMO, INT, BOOL, DECIMAL, MONEY, DATETIME, GUID, LOOKUP, OPTIONSET = (
    "string",
    "memo",
    "int",
    "bool",
    "decimal",
    "money",
    "datetime",
    "guid",
    "lookup",
    "optionset",
)
TEXT_TYPES = (STRING, MEMO)
TYPE_PREFIX = "Microsoft.Crm.Sdk.Data.Services."


@dataclass(frozen=True)
class Attribute:
    """One CRM attribute: its schema name, type and storage options."""

    name: str
    type: str
    max_length: int = 0
    precision: int = 0
    targets: tuple = ()
    indexed: bool = False
    system: bool = False
    # Lookups only: the relationship is Parental (deleting the target deletes this record too,
    # CRM 2011's default for a contact's parent account) rather than Referential.
    parental: tuple = ()
    # An Edm.Int64 (stored and compared as an integer): OData v2 JSON sends it as a string.
    int64: bool = False

    @property
    def column(self):
        """The SQLite column holding the value (lookups: the referenced GUID)."""
        return self.name

    @property
    def shadow(self):
        """The normalised (case- and accent-folded) column of a text attribute."""
        return self.name + "__n"


@dataclass(frozen=True)
class Navigation:
    """A navigation property: a relationship seen from one side."""

    name: str
    target: str
    attribute: str
    many: bool


@dataclass
class Entity:
    """One entity: schema name, logical name, attributes and navigation properties."""

    name: str
    attributes: list
    navigations: list = field(default_factory=list)

    @property
    def logical_name(self):
        """The lower-case logical name, as in a lookup's LogicalName."""
        return self.name.lower()

    @property
    def set_name(self):
        """The OData entity set name."""
        return self.name + "Set"

    @property
    def key(self):
        """The primary key attribute name."""
        return self.name + "Id"

    def attribute(self, name):
        """The attribute called `name` (case-sensitive), or None."""
        return self.by_name.get(name)

    def navigation(self, name):
        """The navigation property called `name`, or None."""
        return next((n for n in self.navigations if n.name == name), None)

    def __post_init__(self):
        self.by_name = {a.name: a for a in self.attributes}


def S(name, max_length=100, indexed=False):
    """A single-line string attribute."""
    return Attribute(name, STRING, max_length=max_length, indexed=indexed)


def _system(name, key_index=True):
    return [
        Attribute(name + "Id", GUID, system=True),
        Attribute("CreatedOn", DATETIME, system=True, indexed=True),
        Attribute("ModifiedOn", DATETIME, system=True, indexed=True),
        Attribute("VersionNumber", INT, system=True, int64=True),
        Attribute("StateCode", OPTIONSET),
        Attribute("StatusCode", OPTIONSET),
        Attribute("OwnerId", LOOKUP, targets=("systemuser",)),
    ]


ACCOUNT = Entity(
    "Account",
    _system("Account")
    + [
        S("Name", 160, indexed=True),
        S("optevia_Alias", 100, indexed=True),
        Attribute("optevia_ukorganisation", BOOL),
        S("EMailAddress1", 100, indexed=True),
        S("Address1_Line1", 250),
        S("Address1_City", 80, indexed=True),
        S("Address1_PostalCode", 20, indexed=True),
        S("Telephone1", 50),
        S("WebSiteURL", 200),
        Attribute("NumberOfEmployees", INT, indexed=True),
        Attribute("Revenue", MONEY, precision=4),
        Attribute("optevia_Score", DECIMAL, precision=2),
        Attribute("Description", MEMO, max_length=2000),
        Attribute("optevia_LastVerified", DATETIME, indexed=True),
        Attribute("PrimaryContactId", LOOKUP, targets=("contact",)),
    ],
    [
        Navigation("contact_customer_accounts", "Contact", "ParentCustomerId", many=True),
        Navigation("account_primary_contact", "Contact", "PrimaryContactId", many=False),
    ],
)

CONTACT = Entity(
    "Contact",
    _system("Contact")
    + [
        S("FirstName", 50, indexed=True),
        S("LastName", 50, indexed=True),
        S("FullName", 160, indexed=True),
        S("EMailAddress1", 100, indexed=True),
        S("JobTitle", 100),
        S("Telephone1", 50),
        S("MobilePhone", 50),
        Attribute("ParentCustomerId", LOOKUP, targets=("account", "contact"), indexed=True, parental=("account",)),
        Attribute("BirthDate", DATETIME),
        Attribute("Description", MEMO, max_length=2000),
    ],
    [Navigation("contact_customer_accounts", "Account", "ParentCustomerId", many=False)],
)

ENTITIES = {e.name: e for e in (ACCOUNT, CONTACT)}
BY_SET = {e.set_name: e for e in ENTITIES.values()}
BY_LOGICAL = {e.logical_name: e for e in ENTITIES.values()}

# How VersionNumber (an Edm.Int64) is sent: "string" as OData v2 writes 64-bit integers
# ("1047332"), "int" as a JSON number, "absent" as null (as seen on a real CRM 2011).
VERSION_NUMBER_MODES = ("string", "int", "absent")

# Read-only attributes that a write body may echo back; CRM ignores them.
READ_ONLY = ("CreatedOn", "ModifiedOn", "VersionNumber", "FullName")
# OwnerId points at a systemuser, which the emulator does not store: one fixed user owns everything.
SYSTEM_USER = {"Id": "8a0f3a4c-6d7e-4c1b-9f0e-2b5d1c3a7e90", "LogicalName": "systemuser", "Name": "CRM Admin"}
