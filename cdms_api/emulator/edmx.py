"""Reading a CRM 2011 `$metadata` (EDMX) document into the emulator's `Schema`.

A CRM 2011 document declares entity types (key, properties with Edm or CRM complex types,
navigation properties), the complex types `EntityReference`, `OptionSetValue` and `Money`, an
`Association` per relationship and an `EntitySet` per entity. It does not say which lookup a
relationship runs through, nor the CRM attribute type behind an `Edm.String` (single line or
memo), nor which attributes the CRM sets itself. The shipped declarations say so in annotations
of their own namespace (`urn:cdms:attribute-metadata`), as CRM's SOAP metadata service would:
`crm:AttributeType`, `crm:Targets`, `crm:ReadOnly`, `crm:Indexed`, `crm:Precision` on a
property, `crm:Attribute` and `crm:CascadeDelete` on an association. A document without them (a
real CRM's, saved by `manage.py cdms_metadata --save`) is read by inference: a relationship
runs through the lookup whose name its own name contains, lookups may refer to any entity, and
`Edm.String` is a single line of text of its `MaxLength`. The document is read by
`cdms_api.edmx`, the reader `cdms_inspect` and `cdms_check` use too; this module turns what it
read into the emulator's `Schema`, and serves several documents as one.
"""

import xml.etree.ElementTree as ET
from pathlib import Path

from .. import edmx
from . import schema as s

SHIPPED = Path(__file__).parent / "declarations" / "cdms-2016.edmx"
CRM = "{urn:cdms:attribute-metadata}"
NAMESPACES = {
    "edmx": "http://schemas.microsoft.com/ado/2007/06/edmx",
    "m": "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata",
    "d": "http://schemas.microsoft.com/ado/2007/08/dataservices",
    "": "http://schemas.microsoft.com/ado/2007/05/edm",
    "crm": "urn:cdms:attribute-metadata",
}
EDM_TYPES = {  # by `cdms_api.edmx.Property.type`
    "Edm.String": s.STRING,
    "Edm.Int32": s.INT,
    "Edm.Int64": s.BIGINT,
    "Edm.Boolean": s.BOOL,
    "Edm.Decimal": s.DECIMAL,
    "Edm.Double": s.DOUBLE,
    "Edm.DateTime": s.DATETIME,
    "Edm.Guid": s.GUID,
    "EntityReference": s.LOOKUP,
    "OptionSetValue": s.OPTIONSET,
    "Money": s.MONEY,
}
MEMO = "Memo"
DEFAULT_MONEY_PRECISION = 4


class MetadataError(ValueError):
    """The document is not a CRM 2011 `$metadata` the emulator can serve."""


def load(path=None):
    """The Schema of the EDMX document at `path` (default: the shipped declarations).

    A list of paths serves the entities of every document; where two declare an entity, the
    first one's declaration is served (so a test document can add custom entities beside the
    shipped ones, declaring the shipped ones it points at only as far as it needs).
    """
    paths = path if isinstance(path, list | tuple) else [path or SHIPPED]
    schemas = [parse(Path(p).read_bytes()) for p in paths]
    return schemas[0] if len(schemas) == 1 else _combine(schemas)


def _combine(schemas):
    entities = {}
    for schema in schemas:
        for entity in schema:
            entities.setdefault(entity.name, entity)
    return s.Schema(list(entities.values()), _combined_document([schema.document for schema in schemas]))


def _combined_document(documents):
    """The first document with the types, associations and sets of the others that it lacks."""
    for prefix, uri in NAMESPACES.items():
        ET.register_namespace(prefix, uri)
    roots = [ET.fromstring(document) for document in documents]
    schema, container = _schema_and_container(roots[0])
    for root in roots[1:]:
        other_schema, other_container = _schema_and_container(root)
        for parent, other in ((schema, other_schema), (container, other_container)):
            names = {child.get("Name") for child in parent}
            parent.extend(c for c in other if c.get("Name") not in names and c is not other_container)
    return ET.tostring(roots[0], xml_declaration=True, encoding="utf-8")


def _schema_and_container(root):
    container = next(e for e in root.iter() if e.tag.endswith("}EntityContainer"))
    schema = next(e for e in root.iter() if container in list(e) or any(c.tag.endswith("}EntityType") for c in e))
    return schema, container


def parse(document):
    """The Schema declared by the EDMX `document` (bytes)."""
    try:
        metadata = edmx.read(document)
    except ET.ParseError as exc:
        raise MetadataError(f"$metadata is not XML: {exc}") from exc
    if not metadata.types:
        raise MetadataError("$metadata declares no EntityType.")
    for entity in metadata.types.values():
        for prop in entity.properties:
            if prop.type not in EDM_TYPES:
                unknown = f"Property {prop.name!r} has a type the emulator does not know: {prop.type!r}."
                raise MetadataError(unknown)
    entities = [
        s.Entity(
            entity.name,
            _attributes(entity, metadata.relationships),
            _navigations(entity, metadata.relationships),
            set_name=entity.entity_set,
            key=entity.key,
        )
        for entity in metadata.types.values()
        if entity.declared_set
    ]
    return s.Schema(entities, document)


def _attributes(entity, relationships):
    attributes = []
    for prop in sorted(entity.properties, key=lambda p: (p.name != entity.key, p.name.lower())):
        kind = EDM_TYPES[prop.type]
        if kind == s.STRING and prop.attribute_type == MEMO:
            kind = s.MEMO
        mine = [r for r in relationships.values() if (r.referencing, r.lookup) == (entity.name, prop.name)]
        system = prop.name == entity.key or prop.name in s.STAMPS
        attributes.append(
            s.Attribute(
                prop.name,
                kind,
                max_length=(prop.max_length or 0) if kind in s.TEXT_TYPES else 0,
                precision=_precision(prop, kind),
                targets=prop.targets if kind == s.LOOKUP else (),
                indexed=prop.indexed or prop.name in ("CreatedOn", "ModifiedOn"),
                system=system,
                read_only=prop.read_only and not system,
                parental=tuple(sorted(r.referenced.lower() for r in mine if r.parental)),
                int64=prop.name == "VersionNumber",
            )
        )
    return attributes


def _precision(prop, kind):
    if kind == s.MONEY:
        return prop.precision or DEFAULT_MONEY_PRECISION
    if kind == s.DECIMAL:
        return prop.scale or 2
    return 0


def _navigations(entity, relationships):
    navigations = []
    for nav in entity.navigations:
        link = relationships.get(nav.relationship)
        if link is None:
            continue  # a relationship whose lookup is unknown is not served
        if link.referenced == link.referencing:  # a lookup to its own entity: the role says which side
            many = nav.from_role.endswith("_Referenced")
        else:
            many = link.referenced == entity.name
        target = link.referencing if many else link.referenced
        navigations.append(s.Navigation(nav.name, target, link.lookup, many=many))
    return navigations
