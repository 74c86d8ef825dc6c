"""Comparing the local table of a synced model with its CRM entity set, and repairing the drift.

The CRM side is read with `$select` of the key, ModifiedOn and VersionNumber only, so a full
comparison costs one small page per 50 records. Each key falls in one bucket:

- missing locally: in the CRM, not in the local table;
- missing in the CRM: a local row whose CRM record is gone (deleted by another CRM user);
- stale: the CRM's ModifiedOn (or VersionNumber, within one second) is newer; a CRM that sends
  no VersionNumber (it may send null) hides a change within the same second from this cheap
  comparison (a read of the record finds it, comparing values);
- local newer: the local row is newer than the CRM's (a write bypassed the CRM);
- local only: rows with no CRM key (saved with skip_cdms), counted only.

`repair` fixes what is safe: it imports the missing and stale records (a `CDMS refresh`
revision each) and deletes locally the rows the CRM no longer has. Local-newer rows need
a person: they are listed, never overwritten.
"""

from dataclasses import asdict, dataclass, field

from cdms_api.odata import parse_date
from migrator import fetch
from migrator.connection import get_client
from migrator.exceptions import ObjectsNotInSyncError
from migrator.mirror.reconcile import LOCAL_NEWER, STALE, reconcile_page, sync_state
from migrator.mirror.removal import remove_gone

BUCKETS = ["missing_locally", "missing_in_crm", "stale", "local_newer"]


@dataclass
class Drift:
    """How one entity's local table differs from the CRM."""

    entity: str
    crm_rows: int = 0
    local_rows: int = 0
    local_only: int = 0
    missing_locally: list = field(default_factory=list)
    missing_in_crm: list = field(default_factory=list)
    stale: list = field(default_factory=list)
    local_newer: list = field(default_factory=list)

    @property
    def in_sync(self):
        """True when no bucket holds a key."""
        return not any(getattr(self, bucket) for bucket in BUCKETS)

    def as_dict(self):
        """The drift as JSON-ready data."""
        return {**asdict(self), "in_sync": self.in_sync}


def compare(migrator, progress=None):
    """The Drift between the migrator's model and its CRM entity set.

    `progress`, if given, is called after each page of CRM keys with the number listed so far.
    """
    model = migrator.model_class
    crm = _crm_versions(migrator, progress)
    local = {}
    local_only = 0
    for key, modified, version in model._base_manager.values_list("cdms_pk", "modified", "cdms_version"):
        if key is None:
            local_only += 1
        else:
            local[key.lower()] = (modified, version)
    drift = Drift(migrator.service, crm_rows=len(crm), local_rows=len(local) + local_only, local_only=local_only)
    drift.missing_locally = sorted(crm.keys() - local.keys())
    drift.missing_in_crm = sorted(local.keys() - crm.keys())
    for key in sorted(crm.keys() & local.keys()):
        bucket = BUCKET_OF.get(sync_state(local[key], crm[key]))
        if bucket:
            getattr(drift, bucket).append(key)
    return drift


def _crm_versions(migrator, progress):
    select = [migrator.key_attribute, "ModifiedOn", "VersionNumber"]
    versions = {}
    for page in get_client().list(migrator.service, select=select):
        for record in page:
            modified = parse_date(record["ModifiedOn"]) if record.get("ModifiedOn") else None
            version = migrator.field("cdms_version").from_cdms(record.get("VersionNumber"))
            versions[record[migrator.key_attribute].lower()] = (modified, version)
        if progress is not None:
            progress(len(versions))
    return versions


BUCKET_OF = {STALE: "stale", LOCAL_NEWER: "local_newer"}


@dataclass
class Repair:
    """What `repair` did for one entity."""

    entity: str
    imported: int = 0
    refreshed: int = 0
    removed: int = 0
    left: list = field(default_factory=list)


def repair(migrator, drift):
    """Import missing and stale records, remove rows deleted in the CRM; returns a Repair."""
    model = migrator.model_class
    done = Repair(migrator.service, left=list(drift.local_newer))
    written = set()
    for page in fetch.by_keys(migrator, drift.missing_locally + drift.stale):
        keys, newer = _reconcile(model, migrator, page)
        written.update(keys)
        done.left += newer
    done.imported = len(written.intersection(drift.missing_locally))
    done.refreshed = len(written.intersection(drift.stale))
    before = model._base_manager.count()
    remove_gone(model, drift.missing_in_crm)
    done.removed = before - model._base_manager.count()
    return done


def _reconcile(model, migrator, page):
    """Reconcile a page: (keys written, keys of records that turned out to be newer locally)."""
    keys = {record[migrator.key_attribute].lower() for record in page}
    try:
        reconcile_page(model, page)
        return keys, []
    except ObjectsNotInSyncError as exc:  # the rest of the page was written
        return keys - set(exc.keys), exc.keys
