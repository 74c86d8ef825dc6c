"""What a row held when it was loaded, so that an update sends only the fields that changed.

Also the whole write-relevant state of an instance, so that a failed write can put it back:
the same call can then be retried, and sends again what the CRM did not take.
"""

from ..cdms_migrator import get_migrator

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


def capture_state(instance):
    """Everything a write may change on an instance: field values, pk, `_state` and snapshot."""
    return {
        "values": {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields},
        "adding": instance._state.adding,
        "db": instance._state.db,
        "snapshot": getattr(instance, _ATTR, None),
    }


def restore_state(instance, state):
    """Put an instance back as `capture_state` saw it, so that a failed write can be retried."""
    for attname, value in state["values"].items():
        setattr(instance, attname, value)
    instance._state.adding = state["adding"]
    instance._state.db = state["db"]
    if state["snapshot"] is None:
        instance.__dict__.pop(_ATTR, None)
    else:
        setattr(instance, _ATTR, state["snapshot"])
