"""The domain tests' system of record while the CRM is live: the emulator (see tests/domain/world.py).

Records are put straight into the emulator's store, as another CRM user would make them,
and read back from it; the service under test sees them only through the CRM. Deleted with
the sync layer when the CRM is retired.
"""

from migrator.cdms_migrator import get_migrator
from tests.crm_records import later
from tests.domain.world import domain_fields, normalise


class CRMWorld:
    """Records in the CRM emulator; keys are CRM keys."""

    name = "crm"

    def __init__(self, crm):
        self.crm = crm

    def add(self, model, **values):
        """Create a record as another CRM user would; return its key."""
        migrator = get_migrator(model)
        record = self.crm.store.insert(migrator.service, migrator.to_cdms(values))
        return record[migrator.key_attribute].lower()

    def change(self, model, key, **values):
        """Change a record as another CRM user would (a later ModifiedOn)."""
        migrator = get_migrator(model)
        self.crm.store.update(migrator.service, key, migrator.to_cdms(values), modified_on=later())

    def remove(self, model, key):
        """Delete a record as another CRM user would."""
        self.crm.store.delete(get_migrator(model).service, key)

    def get(self, model, key):
        """The record's domain values as the CRM holds them, or None."""
        migrator = get_migrator(model)
        record = self.crm.store.get(migrator.service, key)
        if record is None:
            return None
        values = migrator.from_cdms(record)
        return normalise(model, {f.name: values[f.name] for f in domain_fields(model)})

    def count(self, model):
        """How many records of `model` the CRM holds."""
        return self.crm.store.count(get_migrator(model).service)

    def key_of(self, row):
        """The key of a record the API returned (a dict) or of a model instance."""
        return row["cdms_pk"] if isinstance(row, dict) else row.cdms_pk

    def local_id(self, model, key):
        """The local id of a record (read through the CRM, as the service would)."""
        return model.objects.get(cdms_pk=key).pk
