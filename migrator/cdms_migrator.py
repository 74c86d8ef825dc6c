"""The declarative mapping between a Django model and a CRM entity.

Each domain app declares one subclass in its own `cdms_migrator.py`:

    class OrganisationMigrator(BaseCDMSMigrator):
        model = "organisation.Organisation"
        service = "Account"
        fields = {"name": fields.StringField("Name"), ...}

Subclasses register themselves; the migrator app imports every app's `cdms_migrator`
module at start-up, so models never import this module and retiring the CRM is a
matter of deleting files.

`service` is the entity's schema name (`Account`, `detica_interaction`); its entity set is
`<service>Set` and its key `<service>Id` unless `key` names another (every activity is keyed
by `ActivityId`). `read_only = True` declares an entity the CRM owns (lists, users): reads and
the follower bring its records in, and every write is refused before the CRM is asked
(`ReadOnlyEntityError`).
"""

from django.apps import apps

from cdms_api import fields as cdms_fields
from cdms_api import odata
from cdms_api.exceptions import CDMSValueError

from .exceptions import ReadOnlyEntityError

_registry = {}

# Columns of every synced model that map to CRM system attributes.
SYSTEM_FIELDS = {
    "created": cdms_fields.DateTimeField("CreatedOn"),
    "modified": cdms_fields.DateTimeField("ModifiedOn"),
    # Edm.Int64: sent as a string by OData v2, and null (or left out) by some deployments.
    "cdms_version": cdms_fields.Int64Field("VersionNumber"),
}


class BaseCDMSMigrator:
    """Maps model fields to CRM attributes of one entity (`service`)."""

    model = None
    service = None
    key = None  # the primary key attribute when it is not `<service>Id` (activities: `ActivityId`)
    read_only = False  # the CRM owns these records: reads and the follower only
    fields = {}
    navigation = {}  # lookup field name -> CRM navigation property to $expand for select_related
    # Lookup fields whose parent's deletion in the CRM deletes this record too (CRM 2011's
    # parental relationships cascade deletes; see `removal`).
    parental = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.model is None or cls.service is None:
            raise TypeError(f"{cls.__name__} must set both `model` and `service`.")
        _registry[cls.model.lower()] = cls()

    @property
    def model_class(self):
        """The Django model this migrator maps."""
        return apps.get_model(self.model)

    @property
    def key_attribute(self):
        """The CRM primary key attribute, e.g. `AccountId` (or the migrator's `key`)."""
        return self.key or odata.key_attribute(self.service)

    def attributes(self):
        """The CRM attribute names a read of this entity needs: key, system attributes, mapped ones."""
        mapped = [field.cdms_name for field in self.fields.values()]
        system = [field.cdms_name for field in SYSTEM_FIELDS.values()]
        return list(dict.fromkeys([self.key_attribute, *system, *mapped]))

    def refuse_read_only(self, operation):
        """Raise ReadOnlyEntityError, before anything is written, when this mapping is read-only."""
        if self.read_only:
            raise ReadOnlyEntityError(self.model_class, operation)

    def field(self, name):
        """The CRM field for a model field name (mapped or system), or None."""
        return self.fields.get(name) or SYSTEM_FIELDS.get(name)

    def lookup_fields(self):
        """Mapped foreign keys: model field name -> LookupField."""
        return {name: f for name, f in self.fields.items() if isinstance(f, cdms_fields.LookupField)}

    def to_cdms(self, values, strict=True):
        """CRM JSON for a dict of model field values (foreign keys given as CRM keys).

        A field the CRM does not write (`writable=False`) is left out when empty; with a value
        it raises CDMSValueError naming it (`strict`), or is left out (restoring a record).
        """
        body = {}
        for name, value in values.items():
            field = self.fields[name]
            if not field.writable:
                if value is not None and strict:
                    raise CDMSValueError(
                        f"{self.model}.{name} (attribute {field.cdms_name}): the CRM does not take it in a write"
                    )
                continue
            body[field.cdms_name] = field.to_cdms(value)
        return body

    def from_cdms(self, record):
        """Model field values (foreign keys as CRM keys) for a CRM record."""
        values = {name: field.from_cdms(record.get(field.cdms_name)) for name, field in self.fields.items()}
        for name, field in SYSTEM_FIELDS.items():
            values[name] = field.from_cdms(record.get(field.cdms_name))
        values["cdms_pk"] = record[self.key_attribute].lower()
        return values


def get_migrator(model):
    """The migrator registered for a model class or instance, or None for unsynced models."""
    return _registry.get(model._meta.label_lower)


def registered_migrators():
    """Every registered migrator."""
    return list(_registry.values())
