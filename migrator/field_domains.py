"""Model fields learn the CRM's value domains, so forms and the API refuse what the CRM cannot store.

`teach_fields()` runs once at start-up: every model field mapped to a CRM whole number, big
integer, decimal, money amount, floating point number or datetime (`cdms_api.domains`) gets
validators for that range, and a reference (`ReferenceField`) one for its form and targets,
so a model form (the admin) and a DRF model serializer (the API, whose schema then states the
bounds) answer a 400 naming the field instead of the CRM refusing the write. They join the
field's computed `validators`, not its constructor arguments, so migrations never see them; on
SQLite they replace Django's own 64-bit bounds, which the CRM's Int32 is inside. When the CRM
is retired this module goes, and PostgreSQL's `integer` column still holds the same range.
"""

import datetime as dt

from django.core import validators
from django.utils.deconstruct import deconstructible

from cdms_api import domains
from cdms_api import fields as cdms_fields
from cdms_api.exceptions import CDMSValueError
from core.owners import register_read_only

from .cdms_migrator import get_migrator, registered_migrators


@deconstructible
class CRMDateRange:
    """Refuse a datetime the CRM cannot store (before 1753-01-01 or after 9999-12-31)."""

    code = "crm_date_range"

    def __call__(self, value):
        """Raise ValidationError for a datetime outside the CRM's range."""
        if isinstance(value, dt.datetime) and domains.datetime_problem(value):
            low, high = domains.DATETIMES
            raise validators.ValidationError(
                f"Enter a date from {low:%Y-%m-%d} to {high:%Y-%m-%d}: the CRM stores no other dates.",
                code=self.code,
            )

    def __eq__(self, other):
        return isinstance(other, CRMDateRange)


@deconstructible
class CRMReference:
    """Refuse text that is not `<logical name>/<guid>` of an entity the attribute may refer to."""

    code = "crm_reference"

    def __init__(self, cdms_field):
        self.cdms_field = cdms_field

    def __call__(self, value):
        """Raise ValidationError naming what is wrong with the reference."""
        problem = None if value in (None, "") else self.cdms_field.problem(value)
        if problem:
            raise validators.ValidationError(f"Enter a reference the CRM can hold: {problem}.", code=self.code)

    def __eq__(self, other):
        return isinstance(other, CRMReference) and other.cdms_field is self.cdms_field


RANGES = (
    (cdms_fields.IntegerField | cdms_fields.OptionSetField, domains.INT32),
    (cdms_fields.Int64Field, domains.INT64),
    (cdms_fields.MoneyField, domains.MONEY),
    (cdms_fields.DecimalField, domains.DECIMALS),
    (cdms_fields.DoubleField, domains.DOUBLES),
)


def domain_validators(cdms_field):
    """The validators of the CRM attribute's domain (none for an unbounded type)."""
    for kind, (low, high) in RANGES:
        if isinstance(cdms_field, kind):
            return [validators.MinValueValidator(low), validators.MaxValueValidator(high)]
    if isinstance(cdms_field, cdms_fields.DateTimeField):
        return [CRMDateRange()]
    if isinstance(cdms_field, cdms_fields.ReferenceField):
        return [CRMReference(cdms_field)]
    return []


def check_values(instance):
    """Raise CDMSValueError naming the first field of `instance` holding a value the CRM cannot store.

    A synced save calls it before any SQL, so neither the database (PostgreSQL's own range
    error names no field) nor the CRM is asked to store it.
    """
    for name, cdms_field in get_migrator(instance).fields.items():
        value = getattr(instance, instance._meta.get_field(name).attname, None)
        problem = None if value is None else cdms_field.problem(value)
        if problem:
            raise CDMSValueError(f"{type(instance).__name__}.{name} (attribute {cdms_field.cdms_name}): {problem}")


def teach_fields():
    """Add the domain validators to every mapped model field."""
    for migrator in registered_migrators():
        model = migrator.model_class
        for name, cdms_field in migrator.fields.items():
            extra = domain_validators(cdms_field)
            if extra:
                _add(model._meta.get_field(name), extra)


def _add(field, extra):
    ranges = (validators.MinValueValidator, validators.MaxValueValidator)
    replaced = {type(v) for v in extra if isinstance(v, ranges)}
    kept = [v for v in field.validators if type(v) not in replaced and v not in extra]
    field.__dict__["validators"] = [*extra, *kept]  # `validators` is a cached_property


def mark_read_only():
    """Tell core which models the CRM owns (`read_only` mappings), so the admin shows them read-only."""
    for migrator in registered_migrators():
        if migrator.read_only:
            register_read_only(migrator.model_class)
