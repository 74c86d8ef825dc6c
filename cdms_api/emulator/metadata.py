"""A plausible `$metadata` EDMX document, generated from the schema."""

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


def _entity_type(entity):
    props = "".join(_property(a) for a in entity.attributes)
    navs = "".join(
        f'<NavigationProperty Name="{n.name}" Relationship="{NS}.{n.name}" '
        f'FromRole="{entity.name}" ToRole="{n.target}" />'
        for n in entity.navigations
    )
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
    return (
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>'
        '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">'
        '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
        'm:DataServiceVersion="2.0">'
        f'<Schema Namespace="{NS}" xmlns="http://schemas.microsoft.com/ado/2007/05/edm">'
        f"{types}{_complex_types()}"
        f'<EntityContainer Name="OrganizationServiceContext" m:IsDefaultEntityContainer="true">{sets}'
        "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    ).encode()
