"""Reconciling CRM records with local rows, a page at a time, in a constant number of statements.

For each record: equal `modified` (and version) is in sync and costs nothing; with no version
(a CRM may send it null) equal `modified` is in sync only if the mapped values are equal; a newer CRM
record is written (one bulk upsert per page) with a `CDMS refresh` revision per row; a local
row newer than the CRM raises ObjectsNotInSyncError. Foreign keys arrive as CRM keys and are
mapped to local rows by `cdms_pk`; parents missing locally are fetched in one batched request.

A lookup to the record's own entity (a sector's parent sector) is a foreign key to the same
table: parents missing locally are fetched by key and written in the same page as their
children (ancestors too, one request per generation), and links between rows of one page are
set by one more statement once the page's rows exist, so a chain or a cycle of parents costs
no request per row.
"""

import logging

from django.db import transaction
from django.db.models.base import ModelState
from django.utils import timezone

from .. import fetch
from ..cdms_migrator import SYSTEM_FIELDS, get_migrator
from ..exceptions import ObjectsNotInSyncError
from ..instruments import conflict, rows_synced
from ..local import alias_for_write, local_rows, retrying_vanished_parents
from .revisions import REFRESH_COMMENT, record_versions
from .upsert import upsert
from .vouching import vouch

log = logging.getLogger("migrator.mirror.reconcile")


def reconcile_page(model, records, comment=REFRESH_COMMENT, using=None, asked_at=None):
    """Bring local rows up to date with these CRM records; returns their keys.

    Rows newer locally than in the CRM are left alone; once the rest of the page is written,
    ObjectsNotInSyncError names them (`keys`). `asked_at`: when the request that answered these
    records was sent (this machine's clock), recorded as their vouch (`vouching`).
    """
    migrator = get_migrator(model)
    if not records:
        return []
    using = alias_for_write(model, using=using)
    _reconcile_expanded(model, migrator, records, comment, using, asked_at)
    incoming = [migrator.from_cdms(record) for record in records]
    existing = local_state(model, migrator, [row["cdms_pk"] for row in incoming], using)
    states = {row["cdms_pk"]: _state_of(existing.get(row["cdms_pk"]), row, migrator) for row in incoming}
    stale = [row for row in incoming if states[row["cdms_pk"]] == STALE]
    if stale:
        _write(model, migrator, stale, comment, using)
    reconciled(model, states, existing)
    vouch(model, states, asked_at, using)
    newer = [key for key, state in states.items() if state == LOCAL_NEWER]
    if newer:
        raise ObjectsNotInSyncError(model, newer)
    return list(states)


IN_SYNC, STALE, LOCAL_NEWER = "in sync", "stale", "local newer"


def version_of(row):
    """(modified, version) of a row's values."""
    return row["modified"], row["cdms_version"]


def sync_state(local, crm, values_differ=False):
    """IN_SYNC, STALE or LOCAL_NEWER for a local (modified, version) against the CRM's (None: no row).

    `ModifiedOn` has whole seconds, so within one second only a version can tell two states
    apart; a CRM that sends none (null, or left out) is judged by `values_differ` instead: the
    mapped values differ, so the CRM's record is newer (every local write went through it first).
    """
    if local is None:
        return STALE
    (local_modified, local_version), (crm_modified, crm_version) = local, crm
    if local_modified is None or crm_modified is None:
        return STALE if local_modified != crm_modified else IN_SYNC
    versioned = local_version is not None and crm_version is not None
    if local_modified > crm_modified:
        # A higher local version means a concurrent refresh already stored a newer CRM version.
        return IN_SYNC if versioned and local_version > crm_version else LOCAL_NEWER
    if local_modified < crm_modified:
        return STALE
    if versioned:
        return STALE if crm_version > local_version else IN_SYNC
    return STALE if values_differ else IN_SYNC


def _state_of(local, row, migrator):
    if local is None:
        return STALE
    (modified, version, values) = local
    return sync_state((modified, version), version_of(row), values != compared_values(migrator, row))


def compared_fields(migrator, model):
    """{mapped field name: the values_list path of its local value} (foreign keys by the parent's CRM key)."""
    paths = {}
    for name in migrator.fields:
        field = model._meta.get_field(name)
        paths[name] = f"{name}__cdms_pk" if field.is_relation else name
    return paths


def compared_values(migrator, row):
    """The mapped values of a `from_cdms` row, in `compared_fields` order."""
    return tuple(row[name] for name in migrator.fields)


def local_state(model, migrator, keys, using=None, rows=None):
    """{cdms_pk: (modified, version, mapped values)} of the local rows with these keys (one query).

    `rows` (a queryset of the model) replaces the key filter. Mapped values come as
    `compared_values` gives them for a CRM record, so the two compare equal when in sync.
    """
    if rows is None:
        rows = local_rows(model, using).filter(cdms_pk__in=keys)
    paths = list(compared_fields(migrator, model).values())
    found = {}
    for key, modified, version, *values in rows.values_list("cdms_pk", "modified", "cdms_version", *paths):
        found[key] = (modified, version, tuple(values))
    return found


def _reconcile_expanded(model, migrator, records, comment, using, asked_at):
    """Parents that arrived inline (`$expand`) are reconciled first, at no extra request."""
    for name, navigation in migrator.navigation.items():
        related = _related(model, name)
        key = get_migrator(related).key_attribute
        # Not expanded, the property is a {"__deferred": ...} link, which carries no record.
        inline = [r[navigation] for r in records if isinstance(r.get(navigation), dict) and key in r[navigation]]
        parents = list({parent[key]: parent for parent in inline}.values())
        if parents:
            reconcile_page(related, parents, comment, using, asked_at)


def _related(model, name):
    return model._meta.get_field(name).related_model


def resolve_foreign_keys(model, rows, using=None):
    """Replace the CRM keys of foreign keys in `rows` (dicts) by local ids, fetching missing parents.

    Parents that are not local are fetched in one batched request and reconciled first; a
    key the CRM does not have either becomes None (logged). A link to the model itself whose
    parent is one of `rows` is left None and returned, {field name: {child key: parent key}},
    for `link_within_page` once the rows are written.
    """
    using = alias_for_write(model, using=using)
    deferred = {}
    for name in get_migrator(model).lookup_fields():
        related = model._meta.get_field(name).related_model
        wanted = {row[name] for row in rows if row[name]}
        local = local_ids(related, wanted, using)
        if related is model:
            in_page = {row["cdms_pk"] for row in rows} & (wanted - set(local))
            deferred[name] = {row["cdms_pk"]: row[name] for row in rows if row[name] in in_page}
            wanted -= in_page
        missing = wanted - set(local)
        if missing:
            asked = timezone.now()
            for page in fetch.by_keys(get_migrator(related), missing):
                reconcile_page(related, page, using=using, asked_at=asked)
            local.update(local_ids(related, missing, using))
            for key in missing - set(local):
                log.warning("%s refers to %s %s, which the CRM does not have", model.__name__, name, key)
        for row in rows:
            row[name] = local.get(row[name])
    return {name: links for name, links in deferred.items() if links}


def gather_own_parents(model, migrator, rows, using):
    """Add to `rows` the records of their own entity that they refer to and that are not local.

    One request per generation of ancestors; a key the CRM does not have is left (it resolves
    to None). So a page and the parents it needs are written together, cycles included.
    """
    names = [name for name in migrator.lookup_fields() if model._meta.get_field(name).related_model is model]
    if not names:
        return rows
    rows, tried = list(rows), set()
    while True:
        present = {row["cdms_pk"] for row in rows}
        wanted = {row[name] for row in rows for name in names if row[name]} - present - tried
        missing = wanted - set(local_ids(model, wanted, using))
        if not missing:
            return rows
        tried |= missing
        for page in fetch.by_keys(migrator, missing):
            rows.extend(migrator.from_cdms(record) for record in page)


def link_within_page(model, deferred, rows, written, using):
    """Set the links `resolve_foreign_keys` deferred, between rows now written (one statement a field)."""
    ids = local_ids(model, set(written) | {key for links in deferred.values() for key in links.values()}, using)
    by_key = {row["cdms_pk"]: row for row in rows}
    for name, links in deferred.items():
        attname = model._meta.get_field(name).attname
        changed = []
        for child, parent in links.items():
            if child in written and parent in ids:
                instance = model(pk=written[child], **{attname: ids[parent]})
                changed.append(instance)
                by_key[child][name] = ids[parent]
        if changed:
            local_rows(model, using).bulk_update(changed, [name])


def local_ids(model, keys, using=None):
    """{cdms_pk: local pk} for the local rows with these keys (one query)."""
    if not keys:
        return {}
    using = alias_for_write(model, using=using)
    return dict(local_rows(model, using).filter(cdms_pk__in=keys).values_list("cdms_pk", "pk"))


def _write(model, migrator, rows, comment, using):
    if migrator.lookup_fields():
        # Parents are resolved inside the transaction that writes the children (and again,
        # should one vanish meanwhile), so no child is written pointing at a removed row.
        retrying_vanished_parents(
            lambda: _write_page(model, migrator, [dict(r) for r in rows], comment, using), using
        )
    else:
        with transaction.atomic(using=using):
            _write_page(model, migrator, rows, comment, using)


def _write_page(model, migrator, rows, comment, using):
    rows = gather_own_parents(model, migrator, rows, using)
    deferred = resolve_foreign_keys(model, rows, using)
    written = upsert(model, rows, [*migrator.fields, *SYSTEM_FIELDS, "cdms_pk"], using)
    if deferred:
        link_within_page(model, deferred, rows, written, using)
    record_versions(model, _instances(model, rows, written, using), comment, using)


def _instances(model, rows, written, using):
    """Model instances of the written rows (foreign keys given by local id), for their versions.

    Built as `Model.from_db` would, without `__init__`'s per-field work: every concrete field
    is set (from the row, or its default), so nothing is loaded later.
    """
    fields = [(field.name, field.attname, field) for field in model._meta.concrete_fields if not field.primary_key]
    instances = []
    for row in rows:
        pk = written.get(row["cdms_pk"])
        if pk is None:
            continue
        instance = model.__new__(model)
        values = {attname: row[name] if name in row else field.get_default() for name, attname, field in fields}
        instance.__dict__.update(values)
        instance.pk = pk
        instance._state = ModelState()
        instance._state.adding, instance._state.db = False, using
        instances.append(instance)
    return instances


def reconciled(model, states, existing):
    """Count a reconciled page: stale rows refreshed or created, local-newer rows as conflicts."""
    stale = [key for key, state in states.items() if state == STALE]
    created = sum(1 for key in stale if key not in existing)
    rows_synced(model, refreshed=len(stale) - created, created=created)
    conflict(model, sum(1 for state in states.values() if state == LOCAL_NEWER))
