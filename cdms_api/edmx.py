"""A CRM 2011 `$metadata` (EDMX) document read into entity types: keys, properties, lookups' targets.

`$metadata` states each property's Edm type, or the CRM's complex type (`EntityReference` for a
lookup, `OptionSetValue`, `Money`), and facets when it has them (`MaxLength`, `Precision`,
`Scale`). It does not say which lookup a relationship runs through, which entities a lookup may
point at, whether an `Edm.String` is a single line or a memo, nor which attributes the CRM sets
itself. Documents that say so carry annotations of the namespace `urn:cdms:attribute-metadata`
(as the emulator's shipped declarations do, after CRM's SOAP metadata service):
`crm:AttributeType` (`Memo`...), `crm:Targets` (logical names), `crm:ReadOnly`, `crm:Precision` on
a property, `crm:Attribute` (the lookup) on an association. Without them (a real CRM's own
document) a relationship runs through the lookup of the referencing entity whose name its own
name contains (the emulator infers the same way), and a lookup's targets are the referenced
entities of its relationships; a lookup whose targets cannot be told has none (any entity).
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
    targets: tuple = ()
    attribute_type: str | None = None  # the CRM's own type, when annotated (`Memo`, `Picklist`...)
    read_only: bool = False  # set by the CRM (`FullName`, `CreatedBy`, money's `_Base`), when annotated


@dataclass
class EntityType:
    """One entity type: schema name, key, properties and entity set."""

    name: str
    key: str
    properties: list = field(default_factory=list)
    entity_set: str | None = None

    @property
    def logical_name(self):
        """The lower-case logical name (a lookup's `LogicalName`)."""
        return self.name.lower()


@dataclass(frozen=True)
class _Association:
    name: str
    referenced: str  # the entity type at the `0..1` end
    referencing: str  # the entity type at the `*` end (holds the lookup)
    attribute: str | None  # the lookup it runs through, when annotated


def _local(tag):
    return tag.rpartition("}")[2]


def _children(element, name):
    return [child for child in element if _local(child.tag) == name]


def _short(type_name):
    return type_name[len(CRM_TYPES) :] if type_name.startswith(CRM_TYPES) else type_name


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def parse(document):
    """{entity type name: EntityType} of an EDMX document (bytes or text)."""
    root = ET.fromstring(document)
    schemas = [element for element in root.iter() if _local(element.tag) == "Schema"]
    types, associations, sets = {}, {}, {}
    for schema in schemas:
        for element in _children(schema, "EntityType"):
            entity = _entity_type(element)
            types[entity.name] = entity
        for element in _children(schema, "Association"):
            association = _association(element)
            if association is not None:
                associations[association.name] = association
        for container in _children(schema, "EntityContainer"):
            for entity_set in _children(container, "EntitySet"):
                sets[_short(entity_set.get("EntityType", ""))] = entity_set.get("Name")
    for entity in types.values():
        entity.entity_set = sets.get(entity.name, entity.name + "Set")
        entity.properties = [_with_targets(p, entity, associations, types) for p in entity.properties]
    return types


def by_set(types, name):
    """The entity type of an entity set name (or of an entity type name), or None; case-insensitive."""
    for entity in types.values():
        if name.lower() in (entity.entity_set.lower(), entity.name.lower()):
            return entity
    return None


def _entity_type(element):
    keys = [ref.get("Name") for key in _children(element, "Key") for ref in _children(key, "PropertyRef")]
    properties = [_property(p) for p in _children(element, "Property")]
    return EntityType(element.get("Name"), keys[0] if keys else element.get("Name") + "Id", properties)


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
    )


def _association(element):
    ends = _children(element, "End")
    one = [e for e in ends if e.get("Multiplicity") in ("0..1", "1")]
    many = [e for e in ends if e.get("Multiplicity") == "*"]
    if len(one) != 1 or len(many) != 1:
        return None  # many-to-many: no lookup holds it
    referenced, referencing = _short(one[0].get("Type", "")), _short(many[0].get("Type", ""))
    return _Association(element.get("Name"), referenced, referencing, element.get(CRM + "Attribute"))


def _with_targets(prop, entity, associations, types):
    if prop.type != "EntityReference" or prop.targets:
        return prop
    lookups = [p.name for p in entity.properties if p.type == "EntityReference"]
    through = [
        a
        for a in associations.values()
        if a.referencing == entity.name and a.referenced in types and _lookup_of(a, lookups) == prop.name
    ]
    targets = tuple(dict.fromkeys(types[a.referenced].logical_name for a in through))
    return replace(prop, targets=targets)


def _lookup_of(association, lookups):
    """The lookup a relationship runs through: annotated, known, or the longest whose name it contains."""
    if association.attribute:
        return association.attribute
    if association.name in SYSTEM_RELATIONSHIPS:
        return SYSTEM_RELATIONSHIPS[association.name]
    flat = association.name.replace("_", "").lower()
    found = [name for name in lookups if _core(name) and _core(name) in flat]
    return max(found, key=lambda name: len(_core(name)), default=None)


def _core(name):
    """A lookup's name without its prefix, `Id` and underscores, in lower case (`optevia_ParentSector`)."""
    name = name[:-2] if name.endswith("Id") else name
    return re.sub(r"^[a-z]+_", "", name).replace("_", "").lower()
