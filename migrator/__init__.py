"""The sync layer that mirrors Django ORM reads and writes to the legacy CRM (CDMS).

What a user of the layer calls is here; everything else is internal and may move.

- `CDMSModel`, `CDMSManager`, `CDMSQuerySet`: the base of a synced model, its manager and
  queryset (core's seams `CRMBaseModel` and `CRMManager` are built on the first two).
- `BaseCDMSMigrator`, `get_migrator`, `registered_migrators`: the mapping between a model and a
  CRM entity, declared in each domain app's `cdms_migrator.py`.
- `skip_cdms`: keep the CRM out of a block of code (bulk jobs, fixtures, tests).
- `sync_scope`: inside one unit of work, fetch each distinct read once (the web middleware opens
  one per request).
- `sync_source`: count the rows written inside a block as coming from a named source.
- `SyncError`, `ObjectsNotInSyncError`, `NotSupportedError`, `BulkWriteError`, `ReadCapError`:
  what the layer raises beside the CRM's own `cdms_api.exceptions.CDMSError`.

Inside, four parts, each a package that says what it owns and what it may import (see the map
in docs/sync.md): `read` (what a read does before the database answers), `write` (the one
writer), `mirror` (what keeps local rows equal to the CRM, and the follower's state) and `ops`
(metrics, readiness, conflicts, the CRM sync page). What all four share stays at the top:
`conf`, `exceptions`, `context`, `cdms_migrator`, `connection`, `predicate`, `fetch`, `local`,
`instruments` and `throttle`. `models`, `managers`, `admin`, `tasks`, `apps` and `management` are where
Django and Celery look for an app's parts: they import the four, and nothing imports them back.

Names load on first use: Django imports this package before its app registry is ready, when no
model may be defined yet.
"""

from importlib import import_module

_PUBLIC = {
    "CDMSModel": "migrator.models",
    "CDMSManager": "migrator.managers",
    "CDMSQuerySet": "migrator.read.queryset",
    "BaseCDMSMigrator": "migrator.cdms_migrator",
    "get_migrator": "migrator.cdms_migrator",
    "registered_migrators": "migrator.cdms_migrator",
    "skip_cdms": "migrator.context",
    "sync_scope": "migrator.read.scope",
    "sync_source": "migrator.instruments",
    "SyncError": "migrator.exceptions",
    "ObjectsNotInSyncError": "migrator.exceptions",
    "NotSupportedError": "migrator.exceptions",
    "BulkWriteError": "migrator.exceptions",
    "ReadCapError": "migrator.exceptions",
    "CompensationFailedError": "migrator.exceptions",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'migrator' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
