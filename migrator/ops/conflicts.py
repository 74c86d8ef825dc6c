"""Rows in conflict (newer locally than in the CRM) and the two ways a person resolves one.

A row is in conflict when its local `modified` is later than the CRM's: a write bypassed the
CRM. Nothing resolves that automatically, since either side may hold the change someone wants.
Finding them compares every local key with the CRM's (`comparison.compare`: one request per 50
CRM records), then reads the conflicting records in full (one request per 50 conflicts) so that
the differing values can be shown side by side.

- keep the CRM's version: overwrite the local row with the CRM's record (removed locally if
  the CRM no longer has it);
- push the local version: send every mapped field of the local row to the CRM (a MERGE through
  the ordinary write path), which then stores the CRM's answer.
Either way one revision records the change, naming the person and the choice.
"""

from dataclasses import dataclass

from django.db import transaction
from reversion import revisions as reversion

from cdms_api.odata import parse_date

from .. import fetch
from ..cdms_migrator import get_migrator
from ..instruments import rows_synced, sync_source
from ..mirror.removal import remove_gone
from ..write import writer
from ..write.snapshot import mapped_values
from ..write.writer import apply_record
from .comparison import compare

KEEP_CRM, PUSH_LOCAL = "keep_crm", "push_local"
COMMENTS = {
    KEEP_CRM: "Conflict resolved: kept the CRM's version",
    PUSH_LOCAL: "Conflict resolved: pushed the local version",
}


@dataclass
class Conflict:
    """One row newer locally than in the CRM, with both sides' differing values."""

    key: str
    row: object
    crm_modified: object
    differences: list  # (field name, local value, CRM value)


def find(migrator):
    """Return the Conflicts of one migrator's model, oldest local change first."""
    return describe(migrator, compare(migrator).local_newer)


def describe(migrator, keys):
    """The Conflicts of the rows with CRM keys `keys` that are still newer locally, oldest first."""
    if not keys:
        return []
    model = migrator.model_class
    rows = {row.cdms_pk: row for row in model._base_manager.filter(cdms_pk__in=keys)}
    found = []
    for page in fetch.by_keys(migrator, keys):
        for record in page:
            key = record[migrator.key_attribute].lower()
            if key in rows and _still_newer(rows[key], record):
                found.append(_conflict(migrator, rows[key], record))
    return sorted(found, key=lambda c: (c.row.modified, c.key))


def _still_newer(row, record):
    """False for a row resolved since it was found (its `modified` no longer after the CRM's)."""
    if record.get("ModifiedOn") is None or row.modified is None:
        return True
    return row.modified > parse_date(record["ModifiedOn"])


def _conflict(migrator, row, record):
    crm = migrator.from_cdms(record)
    local = mapped_values(row)
    lookups = migrator.lookup_fields()
    differences = []
    for name in migrator.fields:
        local_value = getattr(row, name) if name in lookups else local[name]
        crm_value = crm[name]
        if name in lookups:
            local_value = getattr(local_value, "cdms_pk", None)
        if local_value != crm_value:
            differences.append((name, local_value, crm_value))
    return Conflict(row.cdms_pk, row, crm["modified"], differences)


def resolve(model, key, action, user):
    """Resolve the conflict of the row with CRM key `key` by `action`, in a revision naming `user`."""
    if action not in COMMENTS:
        raise ValueError(f"unknown conflict action {action!r}: use {KEEP_CRM} or {PUSH_LOCAL}")
    with sync_source("write"), reversion.create_revision():
        reversion.set_user(user)
        reversion.set_comment(COMMENTS[action])
        if action == KEEP_CRM:
            keep_crm(model, key)
        else:
            push_local(model, key)


def keep_crm(model, key):
    """Overwrite the local row with the CRM's record (or remove it if the CRM has none)."""
    migrator = get_migrator(model)
    records = [record for page in fetch.by_keys(migrator, [key]) for record in page]
    if not records:
        remove_gone(model, [key])
        return
    with transaction.atomic():
        row = model._base_manager.select_for_update().get(cdms_pk=key)
        apply_record(row, records[0])
        row.save(skip_cdms=True)
    rows_synced(model, refreshed=1)


def push_local(model, key):
    """Send every mapped field of the local row to the CRM and store the CRM's answer."""
    row = model._base_manager.get(cdms_pk=key)
    row._cdms_snapshot = None  # without a snapshot every mapped field counts as changed
    writer.save(row, local_newer_wins=True)
