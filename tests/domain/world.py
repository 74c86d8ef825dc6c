"""The system of record that domain tests write to and read back, the same in both worlds.

While the sync layer is installed, records live in the CRM: `tests/crm_world.py` puts them
in the emulator as another CRM user would and reads them back from it. After retirement,
records live in the local database: `LocalWorld` below. A test says `world.add(Organisation,
name="Acme")` and `world.get(Organisation, key)["name"]` and runs unchanged in both.

Keys are opaque: pass back to the world what it gave you (or `world.key_of(row)` for a row
the API returned). Values are by model field name; a foreign key's value is the parent's key.
"""

import uuid

from django.db import models

from core.managers import local_only

# Columns every CRM model has that are not domain values.
SYSTEM = {"id", "cdms_pk", "cdms_version", "created", "modified"}


def domain_fields(model):
    """The model's concrete domain fields (not the system columns)."""
    return [field for field in model._meta.concrete_fields if field.name not in SYSTEM]


def normalise(model, values):
    """Values as the model keeps them: a text field without a value is ''."""
    for field in domain_fields(model):
        if isinstance(field, models.CharField) and values.get(field.name) is None and not field.null:
            values[field.name] = ""
    return values


class LocalWorld:
    """Records in the local database, written and read locally (the CRM is retired)."""

    name = "local"

    def add(self, model, **values):
        """Create a record as another user of the system would; return its key."""
        with local_only():
            row = model._base_manager.create(cdms_pk=str(uuid.uuid4()), **self._local(model, values))
        return row.pk

    def change(self, model, key, **values):
        """Change a record as another user would (no save() here: another process)."""
        model._base_manager.filter(pk=key).update(**self._local(model, values))

    def remove(self, model, key):
        """Delete a record as another user would."""
        model._base_manager.filter(pk=key).delete()

    def get(self, model, key):
        """The record's domain values as the system of record holds them, or None."""
        row = model._base_manager.filter(pk=key).values(*(f.attname for f in domain_fields(model))).first()
        if row is None:
            return None
        return normalise(model, {f.name: row[f.attname] for f in domain_fields(model)})

    def count(self, model):
        """How many records of `model` the system of record holds."""
        return model._base_manager.count()

    def key_of(self, row):
        """The key of a record the API returned (a dict) or of a model instance."""
        return row["id"] if isinstance(row, dict) else row.pk

    def local_id(self, model, key):
        """The local id of a record (what the API and admin use)."""
        return key

    def _local(self, model, values):
        converted = {}
        for name, value in values.items():
            field = model._meta.get_field(name)
            converted[field.attname if field.is_relation else name] = value
        return converted


def world_for(request):
    """The CRM world while the sync layer is installed, else the local one."""
    from django.apps import apps

    if apps.is_installed("migrator"):
        from tests.crm_world import CRMWorld

        return CRMWorld(request.getfixturevalue("cdms"))
    request.getfixturevalue("db")
    return LocalWorld()
