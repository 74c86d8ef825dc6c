"""A CRM 2011 `$metadata` (EDMX) document read into entity types and relationships.

The one reader of such documents: `cdms_inspect` writes models from it, `cdms_check` judges
mappings by it, and the emulator serves the entities it declares.

`$metadata` states each property's Edm type, or the CRM's complex type (`EntityReference` for a
lookup, `OptionSetValue`, `Money`), and facets when it has them (`MaxLength`, `Precision`,
`Scale`); an `Association` per relationship and a `NavigationProperty` on each side. It does not
say which lookup a relationship runs through, which entities a lookup may point at, whether an
`Edm.String` is a single line or a memo, nor which attributes the CRM sets itself. Documents
that say so carry annotations of the namespace `urn:cdms:attribute-metadata` (as the emulator's
shipped declarations do, after CRM's SOAP metadata service): `crm:AttributeType` (`Memo`...),
`crm:Targets` (logical names), `crm:ReadOnly`, `crm:Indexed`, `crm:Precision` on a property,
`crm:Attribute` (the lookup) and `crm:CascadeDelete` on an association. Without them (a real
CRM's own document) a relationship runs through the lookup of the referencing entity whose name
its own name contains, and a lookup's targets are the referenced entities of its relationships;
a lookup whose targets cannot be told has none (any entity).
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace

CRM_TYPES = "Microsoft.Crm.Sdk.Data.Services."
CRM = "{urn:cdms:attribute-metadata}"
UNKNOWN = "unknown"  # a `crm:Targets` that names no entity: the target is not known
# Relationships of CRM 2011 itself whose names do not contain their lookup's name.
SYSTEM_RELATIONSHIPS = {
    "contact_customer_accounts": "ParentCustomerId",
    "contact_customer_contacts": "ParentCustomerId",
    "account_primary_contact": "PrimaryContactId",
    "account_parent_account": "ParentAccountId",
    "business_unit_system_users": "BusinessUnitId",
}


@dataclass(frozen=True)
class Property:
    """One property of an entity type: its name, type (`Edm.String`, `EntityReference`...) and facets."""

    name: str
    type: str
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    targets: tuple = ()  # logical names, in order; () for any entity
    attribute_type: str | None = None  # the CRM's own type, when annotated (`Memo`, `Picklist`...)
    read_only: bool = False  # set by the CRM (`FullName`, `CreatedBy`, money's `_Base`), when annotated
    indexed: bool = False  # when annotated


@dataclass(frozen=True)
class NavigationProperty:
    """A navigation property: its name, the relationship it follows and the role it starts from."""

    name: str
    relationship: str
    from_role: str


@dataclass(frozen=True)
class Relationship:
    """A one-to-many relationship whose lookup is known."""

    name: str
    referenced: str  # the entity type at the `0..1` end
    referencing: str  # the entity type at the `*` end, which holds the lookup
    lookup: str  # the lookup attribute it runs through
    parental: bool = False  # deleting the referenced record deletes the referencing ones


@dataclass
class EntityType:
    """One entity type: schema name, key, properties, navigation properties and entity set."""

    name: str
    key: str
    properties: list = field(default_factory=list)
    navigations: list = field(default_factory=list)
    entity_set: str | None = None
    declared_set: bool = False  # the container declares its set (else `entity_set` is a guess)

    @property
    def logical_name(self):
        """The lower-case logical name (a lookup's `LogicalName`)."""
        return self.name.lower()


@dataclass
class Metadata:
    """What a document declares: {name: EntityType} and {name: Relationship}."""

    types: dict
    relationships: dict


def read(document):
    """The Metadata of an EDMX document (bytes or text); ET.ParseError when it is not XML."""
    root = ET.fromstring(document)
    types, associations, sets = {}, [], {}
    for element in _all(root, "EntityType"):
        entity = _entity_type(element)
        types[entity.name] = entity
    associations = [_ends(element) for element in _all(root, "Association")]
    for entity_set in _all(root, "EntitySet"):
        sets[_local(entity_set.get("EntityType"))] = entity_set.get("Name")
    relationships = _relationships([a for a in associations if a is not None], types)
    for entity in types.values():
        entity.declared_set = entity.name in sets
        entity.entity_set = sets.get(entity.name, entity.name + "Set")
        entity.properties = [_with_targets(p, entity, relationships) for p in entity.properties]
    return Metadata(types, relationships)


def parse(document):
    """{entity type name: EntityType} of an EDMX document (bytes or text)."""
    return read(document).types


def by_set(types, name):
    """The entity type of an entity set name (or of an entity type name), or None; case-insensitive."""
    for entity in types.values():
        if name.lower() in (entity.entity_set.lower(), entity.name.lower()):
            return entity
    return None


def _local(qualified):
    """A type's name without its namespace (`Microsoft.Crm.Sdk.Data.Services.Account`: `Account`)."""
    return (qualified or "").rsplit(".", 1)[-1]


def _short(type_name):
    return type_name[len(CRM_TYPES) :] if type_name.startswith(CRM_TYPES) else type_name


def _all(element, tag):
    return [e for e in element.iter() if e.tag.rsplit("}", 1)[-1] == tag]


def _children(element, tag):
    return [e for e in element if e.tag.rsplit("}", 1)[-1] == tag]


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _entity_type(element):
    name = _local(element.get("Name"))
    keys = [ref.get("Name") for key in _children(element, "Key") for ref in _children(key, "PropertyRef")]
    return EntityType(
        name,
        keys[0] if keys else name + "Id",
        [_property(p) for p in _children(element, "Property")],
        [_navigation(n) for n in _children(element, "NavigationProperty")],
    )


def _property(element):
    targets = element.get(CRM + "Targets")
    return Property(
        element.get("Name"),
        _short(element.get("Type", "")),
        max_length=_int(element.get("MaxLength")),
        precision=_int(element.get(CRM + "Precision") or element.get("Precision")),
        scale=_int(element.get("Scale")),
        targets=tuple(t.lower() for t in targets.split() if t != UNKNOWN) if targets else (),
        attribute_type=element.get(CRM + "AttributeType"),
        read_only=element.get(CRM + "ReadOnly") == "true",
        indexed=element.get(CRM + "Indexed") == "true",
    )


def _navigation(element):
    relationship = _local(element.get("Relationship"))
    return NavigationProperty(element.get("Name"), relationship, element.get("FromRole", ""))


def _ends(element):
    """(name, referenced, referencing, annotated lookup, parental) of a one-to-many association, else None."""
    ends = {end.get("Multiplicity"): _local(end.get("Type")) for end in _children(element, "End")}
    referenced, referencing = ends.get("0..1") or ends.get("1"), ends.get("*")
    if referenced is None or referencing is None:
        return None  # many-to-many: no lookup holds it
    parental = element.get(CRM + "CascadeDelete") == "Cascade"
    return element.get("Name"), referenced, referencing, element.get(CRM + "Attribute"), parental


def _relationships(associations, types):
    found = {}
    for name, referenced, referencing, annotated, parental in associations:
        if referenced not in types or referencing not in types:
            continue
        lookups = [p.name for p in types[referencing].properties if p.type == "EntityReference"]
        lookup = annotated or _lookup_of(name, lookups)
        if lookup is not None:
            found[name] = Relationship(name, referenced, referencing, lookup, parental)
    return found


def _with_targets(prop, entity, relationships):
    if prop.type != "EntityReference" or prop.targets:
        return prop
    mine = [r for r in relationships.values() if (r.referencing, r.lookup) == (entity.name, prop.name)]
    return replace(prop, targets=tuple(sorted({r.referenced.lower() for r in mine})))


def _lookup_of(relationship, lookups):
    """The lookup a relationship runs through: a known one, or the longest whose name its name contains."""
    if relationship in SYSTEM_RELATIONSHIPS:
        return SYSTEM_RELATIONSHIPS[relationship]
    flat = relationship.replace("_", "").lower()
    found = [name for name in lookups if _core(name) and _core(name) in flat]
    return max(found, key=lambda name: len(_core(name)), default=None)


def _core(name):
    """A lookup's name without its prefix, `Id` and underscores, in lower case (`optevia_ParentSector`)."""
    name = name[:-2] if name.endswith("Id") else name
    return re.sub(r"^[a-z]+_", "", name).replace("_", "").lower()
