"""Rendering stored rows as CRM 2011 wire records (`__metadata`, complex values, deferred links)."""

from . import schema as s
from .routing import record_root
from .values import to_wire


def key_uri(service_root, entity, key):
    """The absolute URI of one record (its service root in lower case, as a real CRM writes it)."""
    return f"{record_root(service_root)}/{entity.set_name}(guid'{key}')"


def int64_wire(value, mode):
    """An Edm.Int64 as sent in `mode` (see `schema.VERSION_NUMBER_MODES`)."""
    if value is None or mode == "absent":
        return None
    return str(value) if mode == "string" else value


def render(service_root, entity, row, names, select=None, version_number="string"):
    """The wire dict of `row`; `select` (a set of names) limits attributes and navigations."""
    key = row[entity.key]
    uri = key_uri(service_root, entity, key)
    record = {"__metadata": {"uri": uri, "type": s.TYPE_PREFIX + entity.name}}
    for attr in entity.attributes:
        if select is None or attr.name in select:
            value = to_wire(attr, row, names)
            record[attr.name] = int64_wire(value, version_number) if attr.int64 else value
    for nav in entity.navigations:
        if select is None or nav.name in select:
            record[nav.name] = {"__deferred": {"uri": f"{uri}/{nav.name}"}}
    return record


def lookup_names(schema, db, entities, rows):
    """{referenced GUID: display name} for every lookup value in `rows` (served targets only)."""
    wanted = {}
    for entity in entities:
        for attr in (a for a in entity.attributes if a.type == s.LOOKUP):
            for row in rows:
                if row[attr.column] is not None:
                    wanted.setdefault(row[attr.name + "__t"], set()).add(row[attr.column])
    names = {}
    for logical, keys in wanted.items():
        names.update(_names_of(db, schema.by_logical.get(logical), sorted(keys)))
    return names


def _names_of(db, target, keys):
    column = target and target.primary_name
    if column is None:
        return {}
    found = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f'SELECT "{target.key}", "{column}" FROM "{target.name}" WHERE "{target.key}" IN ({marks})'
        found.update(db.execute(sql, chunk).fetchall())
    return found
