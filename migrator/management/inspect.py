"""A synced model and its mapping, written from a CRM's `$metadata`, as Django's `inspectdb` does for tables.

`manage.py cdms_inspect` calls `render()` for the entity sets it is given. Each attribute gets
the Django field that holds every value the CRM can send, and the `cdms_api.fields` converter
that reads and writes it:

| CRM type | model field | mapping |
|---|---|---|
| `Edm.String` with a `MaxLength` up to 4000 | `CharField(max_length=..., blank=True)` | `StringField` |
| `Edm.String` annotated `Memo`, or longer | `TextField(max_length=..., blank=True)` | `MemoField` |
| `Edm.String` of no stated length | `TextField(blank=True)` | `StringField` |
| `Edm.Int32` | `IntegerField` | `IntegerField` |
| `Edm.Int64` | `BigIntegerField` | `Int64Field` |
| `Edm.Decimal` | `DecimalField(max_digits=23, decimal_places=10)` (or its `Scale`) | `DecimalField` |
| `Edm.Double` | `FloatField` | `DoubleField` |
| `Edm.Boolean` | `BooleanField` | `BooleanField` |
| `Edm.DateTime` | `DateTimeField` | `DateTimeField` |
| `Edm.Guid` | `CharField(max_length=36)` | `GuidField` |
| `Money` | `DecimalField(max_digits=19, decimal_places=4)` | `MoneyField` |
| `OptionSetValue` | `core.fields.OptionSetField` (add its `choices`) | `OptionSetField` |
| `EntityReference` to one synced entity | `UKTIForeignKey` | `LookupField` |
| `EntityReference` to several, or to one not synced | `core.fields.RecordReference` | `ReferenceField` |

Every field but text is nullable (a CRM null); text holds `""` for one. The key, `CreatedOn`,
`ModifiedOn` and `VersionNumber` are the base model's (`cdms_pk`, `created`, `modified`,
`cdms_version`). Types with no Django equivalent (`Edm.Binary`, other complex types) are left
out with a comment. A lookup is a foreign key when its one target is an entity set of the same
run, the entity itself, or the entity of a registered mapping. An attribute the document
annotates as set by the CRM (`crm:ReadOnly`: `CreatedBy`, `ExchangeRate`...) is mapped
`writable=False`, as state attributes and money's `_Base` are anyway.
"""

import keyword
import re
from dataclasses import dataclass

from cdms_api import fields as cdms_fields

from ..cdms_migrator import registered_migrators

SYSTEM = {"CreatedOn", "ModifiedOn", "VersionNumber"}
RESERVED = {"id", "pk", "cdms_pk", "cdms_version", "created", "modified", "objects"}
MAX_CHAR_LENGTH = 4000
LINE_LENGTH = 115  # the project's (pyproject.toml), so generated code passes `make lint`
MONEY_DIGITS, MONEY_PLACES = 19, 4  # SQL Server `money`, as the CRM stores it
DECIMAL_DIGITS, DECIMAL_PLACES = 23, 10  # the CRM's decimal(23, 10) columns


@dataclass(frozen=True)
class Generated:
    """The text of the two files for one run."""

    models: str
    mapping: str


@dataclass(frozen=True)
class _Field:
    name: str
    model: str  # the model field's declaration
    mapping: str  # the cdms_api field's declaration
    note: str = ""


def class_name(entity):
    """The model class of an entity: its name without a customisation prefix, in CamelCase."""
    name = entity.name
    prefix, sep, rest = name.partition("_")
    if sep and rest and prefix.islower():
        name = rest
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"_+", name) if part)


def field_name(attribute):
    """A Python name for an attribute: snake case, no prefix, no trailing `Id` on a lookup."""
    prefix, sep, rest = attribute.partition("_")
    name = rest if sep and rest and prefix.islower() and prefix not in ("statecode", "statuscode") else attribute
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
    return re.sub(r"[^0-9a-z_]+", "_", name).strip("_") or "attribute"


def render(entities, app_label, read_only=False):
    """Generated models.py and cdms_migrator.py text for these `cdms_api.edmx.EntityType`s."""
    in_run = {entity.logical_name: class_name(entity) for entity in entities}
    synced = {m.service.lower(): m.model for m in registered_migrators()}
    services = {m.service.lower(): m.service for m in registered_migrators()}
    services.update({entity.logical_name: entity.name for entity in entities})
    models, mappings = [], []
    for entity in entities:
        fields = _fields(entity, in_run, synced, services)
        models.append(_model(entity, fields))
        mappings.append(_mapping(entity, fields, app_label, read_only))
    return Generated(_models_module(models), _mapping_module(mappings))


def _fields(entity, in_run, synced, services):
    fields, taken = [], set(RESERVED)
    model = class_name(entity)
    for prop in entity.properties:
        if prop.name == entity.key or prop.name in SYSTEM:
            continue
        name = _unique(
            field_name(re.sub(r"Id$", "", prop.name) if prop.type == "EntityReference" else prop.name), taken
        )
        fields.append(_field(name, prop, entity, model, in_run, synced, services))
    return fields


def _unique(name, taken):
    if keyword.iskeyword(name) or name[0].isdigit():
        name = f"{name}_"
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _field(name, prop, entity, model, in_run, synced, services):
    attr = _quoted(prop.name) + (", writable=False" if _set_by_the_crm(prop) else "")
    found = _typed(name, prop, attr)
    if found is None and prop.type == "EntityReference":
        found = _lookup(name, prop, entity, model, in_run, synced, services, attr)
    return found or _Field(name, "", "", f"{prop.name}: {prop.type} has no Django field; left out")


def _set_by_the_crm(prop):
    """True when the document says the CRM sets the attribute and its converter would not know it."""
    return prop.read_only and cdms_fields.Field(prop.name).writable


def _typed(name, prop, attr):
    """The field of an attribute that is not a lookup, or None."""
    kind = prop.type
    nullable = "null=True, blank=True"
    if kind == "Edm.String":
        memo = prop.attribute_type == "Memo" or (prop.max_length or 0) > MAX_CHAR_LENGTH
        if prop.max_length and not memo:
            model_field = f"models.CharField(max_length={prop.max_length}, blank=True)"
            return _Field(name, model_field, f"fields.StringField({attr})")
        converter = "MemoField" if memo else "StringField"
        # A TextField's max_length is checked by forms and the API: what the CRM would refuse.
        longest = f"max_length={prop.max_length}, " if prop.max_length else ""
        return _Field(name, f"models.TextField({longest}blank=True)", f"fields.{converter}({attr})")
    simple = {
        "Edm.Int32": ("models.IntegerField", "IntegerField"),
        "Edm.Int64": ("models.BigIntegerField", "Int64Field"),
        "Edm.Double": ("models.FloatField", "DoubleField"),
        "Edm.Boolean": ("models.BooleanField", "BooleanField"),
        "Edm.DateTime": ("models.DateTimeField", "DateTimeField"),
    }
    if kind in simple:
        model_field, mapping = simple[kind]
        return _Field(name, f"{model_field}({nullable})", f"fields.{mapping}({attr})")
    if kind == "Edm.Decimal":
        places = DECIMAL_PLACES if prop.scale is None else prop.scale
        digits = max(prop.precision or DECIMAL_DIGITS, places + 1)
        return _Field(
            name,
            f"models.DecimalField(max_digits={digits}, decimal_places={places}, {nullable})",
            f"fields.DecimalField({attr}, precision={places})",
        )
    if kind == "Edm.Guid":
        # Null, not "", when empty: a GUID column holds GUIDs only.
        model_field = f"models.CharField(max_length=36, {nullable})  # noqa: DJ001"
        return _Field(name, model_field, f"fields.GuidField({attr})")
    if kind == "Money":
        places = MONEY_PLACES if prop.precision is None else prop.precision
        return _Field(
            name,
            f"models.DecimalField(max_digits={MONEY_DIGITS}, decimal_places={places}, {nullable})",
            f"fields.MoneyField({attr}, precision={places})",
        )
    if kind == "OptionSetValue":
        return _Field(
            name,
            f"OptionSetField({nullable})",
            f"fields.OptionSetField({attr})",
            "add the option labels as choices",
        )
    return None


def _lookup(name, prop, entity, model, in_run, synced, services, attr):
    if len(prop.targets) == 1:
        target = prop.targets[0]
        related = None
        if target == entity.logical_name:
            related = '"self"'
        elif target in in_run:
            related = f'"{in_run[target]}"'
        elif target in synced:
            related = f'"{synced[target]}"'
        if related is not None:
            service = services.get(target, target)
            reverse = f"{_snake(model)}s_by_{name}"
            return _Field(
                name,
                f'UKTIForeignKey({related}, related_name="{reverse}")',
                # The target is positional: a keyword such as `writable=False` goes after it.
                f"fields.LookupField({_quoted(prop.name)}, {_quoted(service)}{attr[len(_quoted(prop.name)) :]})",
            )
    listed = ", ".join(map(_quoted, prop.targets)) + ("," if len(prop.targets) == 1 else "")
    targets = f", targets=({listed})" if prop.targets else ""
    note = "" if prop.targets else "the document does not say what it refers to: any entity"
    return _Field(name, "RecordReference()", f"fields.ReferenceField({attr}{targets})", note)


def _quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _model(entity, fields):
    lines = [
        "@reversion.register()",
        f"class {class_name(entity)}(CRMBaseModel):",
        f'    """A record of the CRM\'s {entity.name} (entity set {entity.entity_set})."""',
        "",
    ]
    for field in fields:
        if not field.model:
            lines.append(f"    # {field.note}")
            continue
        comment = f"  # {field.note}" if field.note else ""
        lines.append(f"    {field.name} = {field.model}{comment}")
    lines += ["", "    objects = CRMManager()"]
    return "\n".join(lines)


def _mapping(entity, fields, app_label, read_only):
    name = class_name(entity)
    lines = [
        f"class {name}Migrator(BaseCDMSMigrator):",
        f'    model = "{app_label}.{name}"',
        f'    service = "{entity.name}"',
    ]
    if entity.key.lower() != f"{entity.name.lower()}id":
        lines.append(f'    key = "{entity.key}"')
    if read_only:
        lines.append("    read_only = True")
    lines.append("    fields = {")
    lines += [_entry(field) for field in fields if field.mapping]
    lines.append("    }")
    return "\n".join(lines)


def _entry(field):
    """One line of the `fields` dict, wrapped as `ruff format` wraps a line past 115 characters."""
    line = f'        "{field.name}": {field.mapping},'
    if len(line) <= LINE_LENGTH:
        return line
    call, _, arguments = field.mapping.partition("(")
    return f'        "{field.name}": {call}(\n            {arguments[:-1]}\n        ),'


def _models_module(models):
    body = "\n\n\n".join(models)
    core_fields = [name for name in ("OptionSetField", "RecordReference", "UKTIForeignKey") if f"{name}(" in body]
    header = [
        '"""Models of CRM entities, written by `manage.py cdms_inspect`: keep the fields you need."""',
        "",
        *(["from django.db import models"] if "models." in body else []),
        "from reversion import revisions as reversion",
        "",
        *([f"from core.fields import {', '.join(core_fields)}"] if core_fields else []),
        "from core.managers import CRMManager",
        "from core.models import CRMBaseModel",
    ]
    return "\n".join(header) + "\n\n\n" + body + "\n"


def _mapping_module(mappings):
    header = [
        '"""How the models map to the CRM, written by `manage.py cdms_inspect` (deleted with the CRM)."""',
        "",
        "from cdms_api import fields",
        "from migrator.cdms_migrator import BaseCDMSMigrator",
    ]
    return "\n".join(header) + "\n\n\n" + "\n\n\n".join(mappings) + "\n"
