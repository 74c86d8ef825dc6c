"""The `$metadata` EDMX document, generated from the schema.

Complete enough for a generic OData v2 client (SAP's pyodata loads it): entity types with their
keys, the complex types of lookups, option sets and money, and for every navigation property
an Association and an AssociationSet. A relationship is named as in CRM 2011
(`contact_customer_accounts`), its ends are the referenced entity (`0..1`) and the referencing
one that holds the lookup (`*`), with roles `<relationship>_Referenced` / `_Referencing`.
"""

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from . import schema as s

EDM_TYPES = {
    s.STRING: "Edm.String",
    s.MEMO: "Edm.String",
    s.INT: "Edm.Int32",
    s.BOOL: "Edm.Boolean",
    s.DECIMAL: "Edm.Decimal",
    s.DATETIME: "Edm.DateTime",
    s.GUID: "Edm.Guid",
    s.LOOKUP: "Microsoft.Crm.Sdk.Data.Services.EntityReference",
    s.OPTIONSET: "Microsoft.Crm.Sdk.Data.Services.OptionSetValue",
    s.MONEY: "Microsoft.Crm.Sdk.Data.Services.Money",
}
COMPLEX = {
    "EntityReference": [("Id", "Edm.Guid"), ("LogicalName", "Edm.String"), ("Name", "Edm.String")],
    "OptionSetValue": [("Value", "Edm.Int32")],
    "Money": [("Value", "Edm.Decimal")],
}
NS = "Microsoft.Crm.Sdk.Data.Services"


def _property(attr):
    nullable = "false" if attr.system and attr.type == s.GUID else "true"
    edm = "Edm.Int64" if attr.int64 else EDM_TYPES[attr.type]
    return f'<Property Name={quoteattr(attr.name)} Type="{edm}" Nullable="{nullable}" />'


@dataclass(frozen=True)
class Relationship:
    """One 1:N relationship: the referenced entity (one) and the referencing one (many, holds the lookup)."""

    name: str
    referenced: str
    referencing: str

    def role(self, entity_name):
        """The role an entity plays in it."""
        side = "Referenced" if entity_name == self.referenced else "Referencing"
        return f"{self.name}_{side}"


def relationship_of(entity, navigation):
    """The Relationship behind a navigation property of `entity`."""
    if navigation.many:  # the target holds the lookup
        return Relationship(navigation.name, entity.name, navigation.target)
    return Relationship(navigation.name, navigation.target, entity.name)


def relationships():
    """Every relationship a navigation property names, once each, by name."""
    found = {}
    for entity in s.ENTITIES.values():
        for navigation in entity.navigations:
            found.setdefault(navigation.name, relationship_of(entity, navigation))
    return found


def _navigation(entity, navigation):
    rel = relationship_of(entity, navigation)
    to = rel.referencing if navigation.many else rel.referenced
    return (
        f'<NavigationProperty Name="{navigation.name}" Relationship="{NS}.{rel.name}" '
        f'FromRole="{rel.role(entity.name)}" ToRole="{rel.role(to)}" />'
    )


def _association(rel):
    return (
        f'<Association Name="{rel.name}">'
        f'<End Type="{NS}.{rel.referenced}" Role="{rel.role(rel.referenced)}" Multiplicity="0..1" />'
        f'<End Type="{NS}.{rel.referencing}" Role="{rel.role(rel.referencing)}" Multiplicity="*" />'
        "</Association>"
    )


def _association_set(rel):
    return (
        f'<AssociationSet Name="{rel.name}" Association="{NS}.{rel.name}">'
        f'<End Role="{rel.role(rel.referenced)}" EntitySet="{s.ENTITIES[rel.referenced].set_name}" />'
        f'<End Role="{rel.role(rel.referencing)}" EntitySet="{s.ENTITIES[rel.referencing].set_name}" />'
        "</AssociationSet>"
    )


def _entity_type(entity):
    props = "".join(_property(a) for a in entity.attributes)
    navs = "".join(_navigation(entity, n) for n in entity.navigations)
    key = f'<Key><PropertyRef Name="{entity.key}" /></Key>'
    return f'<EntityType Name="{entity.name}">{key}{props}{navs}</EntityType>'


def _complex_types():
    return "".join(
        f'<ComplexType Name="{name}">'
        + "".join(f'<Property Name="{p}" Type="{t}" Nullable="true" />' for p, t in members)
        + "</ComplexType>"
        for name, members in COMPLEX.items()
    )


def metadata_xml():
    """The EDMX document as bytes."""
    types = "".join(_entity_type(e) for e in s.ENTITIES.values())
    sets = "".join(f'<EntitySet Name="{e.set_name}" EntityType="{NS}.{e.name}" />' for e in s.ENTITIES.values())
    rels = relationships().values()
    associations = "".join(_association(rel) for rel in rels)
    sets += "".join(_association_set(rel) for rel in rels)
    return (
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>'
        '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">'
        '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
        'm:DataServiceVersion="2.0">'
        f'<Schema Namespace="{NS}" xmlns="http://schemas.microsoft.com/ado/2007/05/edm">'
        f"{types}{_complex_types()}{associations}"
        f'<EntityContainer Name="OrganizationServiceContext" m:IsDefaultEntityContainer="true">{sets}'
        "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    ).encode()
