"""Reconciling CRM records with local rows, a page at a time, in a constant number of statements.

For each record: equal `modified` (and version) is in sync and costs nothing; a newer CRM
record is written (one bulk upsert per page) with a `CDMS refresh` revision per row; a local
row newer than the CRM raises ObjectsNotInSyncError. Foreign keys arrive as CRM keys and are
mapped to local rows by `cdms_pk`; parents missing locally are fetched in one batched request.
"""

import logging

from django.db import transaction

from . import fetch
from .cdms_migrator import SYSTEM_FIELDS, get_migrator
from .exceptions import ObjectsNotInSyncError
from .revisions import REFRESH_COMMENT, record_versions
from .upsert import upsert

log = logging.getLogger("migrator.reconcile")


def reconcile_page(model, records, comment=REFRESH_COMMENT):
    """Bring local rows up to date with these CRM records; returns their keys."""
    migrator = get_migrator(model)
    if not records:
        return []
    _reconcile_expanded(model, migrator, records, comment)
    incoming = [migrator.from_cdms(record) for record in records]
    keys = [row["cdms_pk"] for row in incoming]
    existing = _existing(model, keys)
    stale = [row for row in incoming if _needs_refresh(model, row, existing.get(row["cdms_pk"]))]
    if stale:
        _resolve_foreign_keys(model, migrator, stale)
        _write(model, migrator, stale, comment)
    return keys


def _reconcile_expanded(model, migrator, records, comment):
    """Parents that arrived inline (`$expand`) are reconciled first, at no extra request."""
    for name, navigation in migrator.navigation.items():
        related = _related(model, name)
        key = get_migrator(related).key_attribute
        # Not expanded, the property is a {"__deferred": ...} link, which carries no record.
        inline = [r[navigation] for r in records if isinstance(r.get(navigation), dict) and key in r[navigation]]
        parents = list({parent[key]: parent for parent in inline}.values())
        if parents:
            reconcile_page(related, parents, comment)


def _related(model, name):
    return model._meta.get_field(name).related_model


def _existing(model, keys):
    rows = model._base_manager.filter(cdms_pk__in=keys).values_list("cdms_pk", "modified", "cdms_version")
    return {key: (modified, version) for key, modified, version in rows}


def _needs_refresh(model, row, local):
    if local is None:
        return True
    local_modified, local_version = local
    if local_modified is None or row["modified"] is None:
        return True
    if local_modified > row["modified"]:
        if (local_version or 0) > (row["cdms_version"] or 0):
            return False  # a concurrent refresh already stored a newer CRM version
        raise ObjectsNotInSyncError(
            f"{model._meta.label} {row['cdms_pk']}: the local row (modified {local_modified:%Y-%m-%d %H:%M:%S})"
            f" is newer than the CRM's ({row['modified']:%Y-%m-%d %H:%M:%S})."
        )
    if local_modified < row["modified"]:
        return True
    return (row["cdms_version"] or 0) > (local_version or 0)


def _resolve_foreign_keys(model, migrator, rows):
    for name in migrator.lookup_fields():
        related = model._meta.get_field(name).related_model
        wanted = {row[name] for row in rows if row[name]}
        local = local_ids(related, wanted)
        missing = wanted - set(local)
        if missing:
            for page in fetch.by_keys(get_migrator(related), missing):
                reconcile_page(related, page)
            local.update(local_ids(related, missing))
            for key in missing - set(local):
                log.warning("%s refers to %s %s, which the CRM does not have", model.__name__, name, key)
        attname = model._meta.get_field(name).attname
        for row in rows:
            row[attname] = local.get(row.pop(name))


def local_ids(model, keys):
    """{cdms_pk: local pk} for the local rows with these keys (one query)."""
    if not keys:
        return {}
    return dict(model._base_manager.filter(cdms_pk__in=keys).values_list("cdms_pk", "pk"))


def _write(model, migrator, rows, comment):
    columns = set(migrator.fields) | set(SYSTEM_FIELDS) | {"cdms_pk"}
    names = [model._meta.get_field(name).name for name in columns]
    with transaction.atomic():
        written = upsert(model, [_by_field_name(model, row) for row in rows], names)
        instances = [_instance(model, row, written[row["cdms_pk"]]) for row in rows if row["cdms_pk"] in written]
        record_versions(model, instances, comment)


def _by_field_name(model, row):
    values = {}
    for key, value in row.items():
        field = model._meta.get_field(key) if not key.endswith("_id") else _attname_field(model, key)
        values[field.name] = value
    return values


def _attname_field(model, attname):
    return next(f for f in model._meta.concrete_fields if f.attname == attname)


def _instance(model, row, pk):
    instance = model(pk=pk, **row)
    instance._state.adding = False
    return instance
