"""The emulated CRM's entities and attributes: data read from a `$metadata` document (see `edmx`).

Everything else (storage columns, wire conversion, `$filter` typing, navigation properties) is
derived from these declarations. An emulator serves one `Schema`: by default the shipped
declarations of the entities the 2016 Data Hub used, at the real CDMS's width
(`declarations/cdms-2016.edmx`); `--metadata FILE` serves another CRM's entities.
"""

from dataclasses import dataclass, field
from functools import cached_property

STRING, MEMO, INT, BIGINT, BOOL, DECIMAL, DOUBLE, MONEY, DATETIME, GUID, LOOKUP, OPTIONSET = (
    "string",
    "memo",
    "int",
    "bigint",
    "bool",
    "decimal",
    "double",
    "money",
    "datetime",
    "guid",
    "lookup",
    "optionset",
)
TEXT_TYPES = (STRING, MEMO)
TYPE_PREFIX = "Microsoft.Crm.Sdk.Data.Services."
# The system attributes every record has, stamped by the CRM (their names are the same on
# system and custom entities).
STAMPS = ("CreatedOn", "ModifiedOn", "VersionNumber")


@dataclass(frozen=True)
class Attribute:
    """One CRM attribute: its schema name, type and storage options."""

    name: str
    type: str
    max_length: int = 0
    precision: int = 0
    # Lookups: the logical names it may refer to (empty: any, as for a foreign document that
    # does not say).
    targets: tuple = ()
    indexed: bool = False
    # The key and the stamps: set by the CRM, never by a write body.
    system: bool = False
    # Set by the CRM (FullName, CreatedBy, a money attribute's `_Base`): a write carrying one
    # is accepted and the value ignored, as CRM 2011 does.
    read_only: bool = False
    # Lookups only: the target logical names whose deletion deletes this record too (a Parental
    # relationship, CRM 2011's default for a contact's parent account) rather than unlinking it.
    parental: tuple = ()
    # An Edm.Int64 sent as OData v2 JSON sends it (a string) in the VersionNumber mode.
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
    """A navigation property: a relationship seen from one side, through the lookup `attribute`."""

    name: str
    target: str
    attribute: str
    many: bool


@dataclass
class Entity:
    """One entity: schema name, entity set, key, attributes and navigation properties."""

    name: str
    attributes: list
    navigations: list = field(default_factory=list)
    set_name: str = ""
    key: str = ""

    def __post_init__(self):
        self.set_name = self.set_name or self.name + "Set"
        self.key = self.key or self.name + "Id"
        self.by_name = {a.name: a for a in self.attributes}
        self.nav_by_name = {n.name: n for n in self.navigations}

    @property
    def logical_name(self):
        """The lower-case logical name, as in a lookup's LogicalName."""
        return self.name.lower()

    def attribute(self, name):
        """The attribute called `name` (case-sensitive), or None."""
        return self.by_name.get(name)

    def navigation(self, name):
        """The navigation property called `name`, or None."""
        return self.nav_by_name.get(name)

    @cached_property
    def primary_name(self):
        """The attribute a lookup's `Name` shows (CRM's primary name attribute), or None."""
        prefix, _, rest = self.name.rpartition("_")
        wanted = ["FullName", "Name", "Subject"] + ([f"{prefix}_name", f"{prefix}_{rest}"] if prefix else [])
        text = {a.name.lower(): a.name for a in self.attributes if a.type in TEXT_TYPES}
        return next((text[w.lower()] for w in wanted if w.lower() in text), None)


class Schema:
    """The entities one emulator serves, and the `$metadata` document they were read from."""

    def __init__(self, entities, document):
        self.entities = {e.name: e for e in entities}
        self.by_set = {e.set_name: e for e in entities}
        self.by_logical = {e.logical_name: e for e in entities}
        self.document = document

    def __iter__(self):
        return iter(self.entities.values())

    def lookups_to(self, ent):
        """(entity, lookup attribute) pairs that may refer to `ent`."""
        for other in self:
            for attr in other.attributes:
                if attr.type == LOOKUP and ent.logical_name in (attr.targets or (ent.logical_name,)):
                    yield other, attr


# How VersionNumber (an Edm.Int64) is sent: "string" as OData v2 writes 64-bit integers
# ("1047332"), "int" as a JSON number, "absent" as null (as seen on a real CRM 2011).
VERSION_NUMBER_MODES = ("string", "int", "absent")
