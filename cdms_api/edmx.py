"""A CRM 2011 `$metadata` (EDMX) document read into entity types: keys, properties, lookups' targets.

`$metadata` states each property's Edm type, or the CRM's complex type (`EntityReference` for a
lookup, `OptionSetValue`, `Money`), and facets when it has them (`MaxLength`, `Precision`,
`Scale`). It does not tie a lookup to the entities it may point at: its targets come from an
annotation on the property when the document has one (any attribute whose local name is
`LookupTargets`, space- or comma-separated logical names), else they are inferred from the
associations, whose one end is the referenced entity (`0..1`) and the other the entity holding
the lookup (`*`): a relationship whose name ends with the attribute's name, or whose referenced
entity's name the attribute's name contains (`ParentAccountId`: account). A lookup whose targets
cannot be told has none (any entity).
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

CRM_TYPES = "Microsoft.Crm.Sdk.Data.Services."


@dataclass(frozen=True)
class Property:
    """One property of an entity type: its name, type (`Edm.String`, `EntityReference`...) and facets."""

    name: str
    type: str
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    targets: tuple = ()


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
    targets = ()
    for name, value in element.attrib.items():
        if _local(name) == "LookupTargets":
            targets = tuple(t.lower() for t in re.split(r"[\s,]+", value) if t)
    return Property(
        element.get("Name"),
        _short(element.get("Type", "")),
        max_length=_int(element.get("MaxLength")),
        precision=_int(element.get("Precision")),
        scale=_int(element.get("Scale")),
        targets=targets,
    )


def _association(element):
    ends = _children(element, "End")
    one = [e for e in ends if e.get("Multiplicity") in ("0..1", "1")]
    many = [e for e in ends if e.get("Multiplicity") == "*"]
    if len(one) != 1 or len(many) != 1:
        return None  # many-to-many: no lookup holds it
    return _Association(element.get("Name"), _short(one[0].get("Type", "")), _short(many[0].get("Type", "")))


def _with_targets(prop, entity, associations, types):
    if prop.type != "EntityReference" or prop.targets:
        return prop
    held = [a for a in associations.values() if a.referencing == entity.name and a.referenced in types]
    stem = re.sub(r"id$", "", prop.name.lower())
    bare = stem.partition("_")[2] if "_" in stem else stem
    named = [a for a in held if a.name.lower().endswith(("_" + stem, "_" + bare))]
    contained = [a for a in held if _bare(a.referenced) in stem]
    chosen = named or contained
    targets = tuple(dict.fromkeys(types[a.referenced].logical_name for a in chosen))
    return Property(prop.name, prop.type, prop.max_length, prop.precision, prop.scale, targets)


def _bare(type_name):
    """An entity's name without its customisation prefix, in lower case (`optevia_sector` -> `sector`)."""
    lower = type_name.lower()
    return lower.partition("_")[2] if "_" in lower else lower
