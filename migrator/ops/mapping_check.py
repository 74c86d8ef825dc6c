"""Does a mapping agree with the CRM's `$metadata`? The problems a CRM would only show later.

A mapping is written by hand (or by `cdms_inspect`) and the CRM it is pointed at is the judge.
What disagrees fails late and far from its cause: an attribute the CRM does not have fails
every read with a 400; a text the model accepts longer than the CRM keeps fails a save; a
lookup that may point at another entity reads references to it as someone else's record; an
attribute the CRM sets itself, mapped as writable, fails every write. Each is found here from
one `$metadata` document (`cdms_api.edmx`), before any record is read or written.
"""

from cdms_api import edmx
from cdms_api import fields as f

from ..cdms_migrator import SYSTEM_FIELDS


def problems(migrator, types):
    """What in `migrator`'s mapping disagrees with the entity types of a `$metadata` (`edmx.parse`)."""
    entity = edmx.by_set(types, migrator.service)
    if entity is None:
        return [f"the CRM's $metadata has no entity set {migrator.service}Set"]
    found = []
    if entity.key.lower() != migrator.key_attribute.lower():
        found.append(f"the key is {entity.key}, not {migrator.key_attribute}")
    properties = {p.name: p for p in entity.properties}
    for name, field in migrator.fields.items():
        prop = properties.get(field.cdms_name)
        if prop is None:
            found.append(f"{name}: {entity.name} has no attribute {field.cdms_name}")
            continue
        for problem in _field_problems(migrator, name, field, prop):
            found.append(f"{name} ({field.cdms_name}): {problem}")
    for field in SYSTEM_FIELDS.values():
        if field.cdms_name not in properties and field.cdms_name != "VersionNumber":  # some CRMs leave it out
            found.append(f"{entity.name} has no attribute {field.cdms_name}")
    return found


def _field_problems(migrator, name, field, prop):
    if field.edm_type is not None and prop.type != field.edm_type:
        yield f"mapped as {type(field).__name__} ({field.edm_type}), but the CRM's type is {prop.type}"
        return
    if isinstance(field, f.StringField):
        yield from _length_problems(migrator, name, prop)
    if isinstance(field, f.LookupField):
        yield from _target_problems(field, prop)
    if field.writable and not migrator.read_only and prop.read_only:
        yield "the CRM sets it itself: map it with writable=False"


def _length_problems(migrator, name, prop):
    allowed = getattr(migrator.model_class._meta.get_field(name), "max_length", None)
    if prop.max_length and (allowed is None or allowed > prop.max_length):
        told = "any length" if allowed is None else f"{allowed} characters"
        yield f"the model accepts {told}, the CRM keeps {prop.max_length}: set max_length={prop.max_length}"


def _target_problems(field, prop):
    if not prop.targets:
        return  # the document does not say: any entity
    entity = field.entity.lower()
    if entity not in prop.targets:
        yield f"refers to {', '.join(prop.targets)}, not {entity}"
        return
    others = [target for target in prop.targets if target != entity and target not in field.other_targets]
    if others:
        yield (
            f"may also refer to {', '.join(others)}: declare other_targets={others!r} "
            "(such a reference reads as no parent, and `isnull` filters must know)"
        )
