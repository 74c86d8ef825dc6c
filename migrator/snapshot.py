"""What a row held when it was loaded, so that an update sends only the fields that changed."""

from .cdms_migrator import get_migrator

_ATTR = "_cdms_snapshot"


def mapped_values(instance):
    """The instance's mapped field values, foreign keys by local id."""
    migrator = get_migrator(instance)
    if migrator is None:
        return {}
    return {name: getattr(instance, instance._meta.get_field(name).attname) for name in migrator.fields}


def take_snapshot(instance):
    """Remember the current mapped values as the CRM's."""
    setattr(instance, _ATTR, mapped_values(instance))


def changed_fields(instance):
    """Names of mapped fields whose values differ from the snapshot (all of them without one)."""
    before = getattr(instance, _ATTR, None)
    now = mapped_values(instance)
    if before is None:
        return list(now)
    return [name for name, value in now.items() if before.get(name) != value]
