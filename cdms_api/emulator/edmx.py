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
`Edm.String` is a single line of text of its `MaxLength`.
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

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
EDM_TYPES = {
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
# Relationships of CRM 2011 itself whose names do not contain their lookup's name.
SYSTEM_RELATIONSHIPS = {
    "contact_customer_accounts": "ParentCustomerId",
    "contact_customer_contacts": "ParentCustomerId",
    "account_primary_contact": "PrimaryContactId",
    "account_parent_account": "ParentAccountId",
    "business_unit_system_users": "BusinessUnitId",
}


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
    container = _all(root, "EntityContainer")[0]
    schema = next(e for e in root.iter() if container in list(e) or any(c.tag.endswith("}EntityType") for c in e))
    return schema, container


def parse(document):
    """The Schema declared by the EDMX `document` (bytes)."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise MetadataError(f"$metadata is not XML: {exc}") from exc
    types = {_local(t.get("Name")): t for t in _all(root, "EntityType")}
    if not types:
        raise MetadataError("$metadata declares no EntityType.")
    associations = {a.get("Name"): a for a in _all(root, "Association")}
    sets = {_local(e.get("EntityType")): e.get("Name") for e in _all(root, "EntitySet")}
    attributes = {name: _attributes(t) for name, t in types.items()}
    links = _relationships(associations, types, attributes)
    entities = []
    for name, element in types.items():
        if name not in sets:
            continue
        key = [ref.get("Name") for ref in _all(element, "PropertyRef")]
        entities.append(
            s.Entity(
                name,
                _finish(attributes[name], key[0], links, name, types),
                _navigations(element, links, name),
                set_name=sets[name],
                key=key[0],
            )
        )
    return s.Schema(entities, document)


def _local(qualified):
    return (qualified or "").rsplit(".", 1)[-1]


def _all(element, tag):
    return [e for e in element.iter() if e.tag.rsplit("}", 1)[-1] == tag]


def _attributes(element):
    found = {}
    for prop in (p for p in element if p.tag.endswith("}Property")):
        edm = prop.get("Type")
        kind = EDM_TYPES.get(edm) or EDM_TYPES.get(_local(edm))
        if kind is None:
            raise MetadataError(f"Property {prop.get('Name')!r} has a type the emulator does not know: {edm!r}.")
        found[prop.get("Name")] = prop
    return found


def _kind(prop):
    edm = prop.get("Type")
    kind = EDM_TYPES.get(edm) or EDM_TYPES[_local(edm)]
    if kind == s.STRING and prop.get(CRM + "AttributeType") == MEMO:
        return s.MEMO
    return kind


def _relationships(associations, types, attributes):
    """{relationship: (referenced entity, referencing entity, lookup attribute, parental)}."""
    links = {}
    for name, assoc in associations.items():
        ends = {e.get("Multiplicity"): _local(e.get("Type")) for e in assoc if e.tag.endswith("}End")}
        referenced, referencing = ends.get("0..1") or ends.get("1"), ends.get("*")
        if referenced not in types or referencing not in types:
            continue
        lookup = assoc.get(CRM + "Attribute") or _guess_lookup(name, attributes[referencing])
        if lookup is None:
            continue
        links[name] = (referenced, referencing, lookup, assoc.get(CRM + "CascadeDelete") == "Cascade")
    return links


def _core(name):
    name = name[:-2] if name.endswith("Id") else name
    return re.sub(r"^[a-z]+_", "", name).replace("_", "").lower()


def _guess_lookup(relationship, props):
    if relationship in SYSTEM_RELATIONSHIPS:
        return SYSTEM_RELATIONSHIPS[relationship]
    flat = relationship.replace("_", "").lower()
    lookups = [n for n, p in props.items() if _kind(p) == s.LOOKUP and _core(n) and _core(n) in flat]
    return max(lookups, key=lambda n: len(_core(n)), default=None)


def _finish(props, key, links, entity, types):
    attributes = []
    for name, prop in sorted(props.items(), key=lambda item: (item[0] != key, item[0].lower())):
        kind = _kind(prop)
        targets, parental = (), ()
        if kind == s.LOOKUP:
            declared = prop.get(CRM + "Targets")
            inferred = {ref.lower() for ref, ing, attr, _ in links.values() if (ing, attr) == (entity, name)}
            targets = tuple(declared.split()) if declared else tuple(sorted(inferred))
            mine = [(ref, cascade) for ref, ing, attr, cascade in links.values() if (ing, attr) == (entity, name)]
            parental = tuple(sorted(ref.lower() for ref, cascade in mine if cascade))
        system = name == key or name in s.STAMPS
        attributes.append(
            s.Attribute(
                name,
                kind,
                max_length=int(prop.get("MaxLength") or 0) if kind in s.TEXT_TYPES else 0,
                precision=_precision(prop, kind),
                targets=targets,
                indexed=prop.get(CRM + "Indexed") == "true" or name in ("CreatedOn", "ModifiedOn"),
                system=system,
                read_only=prop.get(CRM + "ReadOnly") == "true" and not system,
                parental=parental,
                int64=name == "VersionNumber",
            )
        )
    return attributes


def _precision(prop, kind):
    if kind == s.MONEY:
        return int(prop.get(CRM + "Precision") or DEFAULT_MONEY_PRECISION)
    if kind == s.DECIMAL:
        return int(prop.get("Scale") or 2)
    return 0


def _navigations(element, links, entity):
    navigations = []
    for nav in (n for n in element if n.tag.endswith("}NavigationProperty")):
        link = links.get(_local(nav.get("Relationship")))
        if link is None:
            continue  # a relationship whose lookup is unknown is not served
        referenced, referencing, lookup, _ = link
        if referenced == referencing:  # a lookup to its own entity: the role says which side
            many = nav.get("FromRole", "").endswith("_Referenced")
        else:
            many = referenced == entity
        target = referencing if many else referenced
        navigations.append(s.Navigation(nav.get("Name"), target, lookup, many=many))
    return navigations
