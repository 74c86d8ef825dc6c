"""The one write path through the CRM: the CRM call and the local write succeed together or not at all.

`Model.save()`, `Model.delete()`, the bulk operations (`bulk`) and a raw save (a reverted
version, a fixture) all write here, on the database alias they were given.

- create: insert locally (so local constraint errors surface first), POST with a
  client-generated key (a retried POST cannot create twice), store the CRM's answer.
- update: lock the local row, write the changed fields, MERGE only those, GET the record
  and store it (which also brings in what others changed in the CRM meanwhile).
- delete: lock the row, read what the CRM's delete will cascade to (`cascade`), delete the
  row and those children locally (`mirror.removal`), DELETE in the CRM (a 404 counts as done).

Every local statement comes first and the deferred foreign keys are checked right after it
(`local.check_deferred`), so a write the local database refuses never reaches the CRM. A
failed CRM call rolls the local write back; a MERGE or DELETE whose answer was lost is settled
first by reading the record back (`settle`). A local failure after the CRM call succeeded
(the answer stored, the revision, the commit) is compensated in the CRM (the record deleted,
the old values merged back, or the deleted record re-created under its key with the children
its delete took), and logged; if the compensation fails too, `CompensationFailedError` says
what the CRM kept. Either way the instance is put back as it was (pk, `_state`, `cdms_pk`,
values, change tracking), so the same call can be retried.

The revision of a save that no outer block records is recorded inside the writer's own
transaction (`local_revision`), so a refused version is a local failure like any other. Inside
an outer revision block (a request's), the version is written when that block ends, after the
CRM call: it is rehearsed before the CRM call instead (`rehearse_version`).

A create whose answer was lost (a timeout, a cut connection, an error page) may have landed:
its record is looked up by its key and removed, and the key stays with the instance, so a
retry that finds the record landed late after all takes it over instead of making another.
"""

import logging
import uuid

from django.db import transaction
from django.utils import timezone
from reversion import revisions as reversion

from cdms_api.exceptions import CDMSDuplicateKeyError, CDMSError, CDMSNotFoundError

from .. import fetch
from ..cdms_migrator import SYSTEM_FIELDS, get_migrator
from ..connection import get_client
from ..exceptions import CompensationFailedError, ObjectsNotInSyncError
from ..local import (
    alias_for_write,
    check_deferred,
    delete_locally,
    local_rows,
    rehearse,
    retrying_vanished_parents,
    save_locally,
)
from ..mirror.reconcile import LOCAL_NEWER, resolve_foreign_keys, sync_state
from ..mirror.revisions import record_versions
from ..mirror.vouching import vouch
from . import settle
from .cascade import (
    describe,
    read_cascade,
    record_key,
    recreate_body,
    refresh_stale_links,
    remove_cascade,
    with_removed,
)
from .snapshot import capture_state, changed_fields, mapped_values, restore_state, take_snapshot
from .unit import Intents

log = logging.getLogger("migrator.write.writer")

# The key of a create whose answer was lost, kept on the instance for its retry.
PENDING_KEY = "_cdms_pending_key"


def save(instance, using=None, local_newer_wins=False, **kwargs):
    """Save an instance locally and in the CRM as one unit; on failure leave it as it was.

    A local row newer than the CRM's raises ObjectsNotInSyncError, unless `local_newer_wins`
    (an operator pushing the local version of a conflict).
    """
    using = alias_for_write(type(instance), instance, using)
    migrator = get_migrator(instance)
    migrator.refuse_read_only("save")
    state = capture_state(instance)
    try:
        if instance.cdms_pk is None:
            _create(instance, migrator, using, kwargs)
        else:
            _update(instance, migrator, using, kwargs, local_newer_wins)
    except BaseException:
        restore_state(instance, state)
        raise


def delete(instance, using=None, **kwargs):
    """Delete an instance locally and in the CRM as one unit; on failure leave it as it was.

    What the CRM's delete cascades to (an organisation's contacts) is deleted locally too, in
    the same transaction; returns Django's (count, per-model counts), the cascade included.
    """
    using = alias_for_write(type(instance), instance, using)
    migrator = get_migrator(instance)
    migrator.refuse_read_only("delete")
    key = instance.cdms_pk
    if key is None:
        return delete_locally(instance, using, **kwargs)
    state = capture_state(instance)
    deleted = None
    intents = Intents(using)
    try:
        with transaction.atomic(using=using):
            values = _lock_row(instance, using) or mapped_values(instance)
            taken = read_cascade(type(instance), {key})
            refresh_stale_links(type(instance), [instance.pk], taken, using)
            undo = delete_undo(instance, values, taken, using)
            removed = remove_cascade(type(instance), [instance.pk], taken, using)
            count, per_model = delete_locally(instance, using, **kwargs)
            check_deferred(using, type(instance), deleting=True)
            intents.add(migrator.service, key, "delete", undo)
            settle.delete(migrator, key)
            deleted = (values, taken)
        intents.joined()
        return with_removed((count, per_model), removed)
    except BaseException as exc:
        restore_state(instance, state)
        if deleted:
            _undo_delete(instance, migrator, key, *deleted, using, exc)
        intents.abandon()
        raise


def delete_undo(instance, values, taken, using):
    """An intent's undo of a delete: the record's mapped values and what the delete takes with it."""
    children = [
        [get_migrator(child).service, record_key(child, r), recreate_body(child, r)]
        for child, records in taken
        for r in records
    ]
    return {"values": restore_body(instance, values, using), "children": children}


def _undo_delete(instance, migrator, key, values, taken, using, exc):
    """Re-create a deleted record under its key, then the children its delete took; log what was restored."""
    client = get_client()
    what = f"re-create {migrator.service} {key}"
    if taken:
        what += f" and what its delete took: {describe(taken)}"
    failed = []
    if not _quietly(client.create, migrator.service, restore_body(instance, values, using), key=key):
        failed.append(f"{migrator.service} {key}")
    for child, records in taken:
        service = get_migrator(child).service
        for record in records:
            child_key = record_key(child, record)
            if not _quietly(client.create, service, recreate_body(child, record), key=child_key):
                failed.append(f"{service} {child_key}")
    report(what, failed, exc)


def _quietly(call, *args, **kwargs):
    """Run a compensating call; True if it succeeded (a failure is reported by `report`)."""
    try:
        call(*args, **kwargs)
    except CDMSError as exc:
        log.warning("A compensating request failed: %s", exc)
        return False
    return True


def report(what, failed, cause, undone=1):
    """Log a compensation of `undone` CRM changes; raise CompensationFailedError naming what stayed undone.

    With nothing to undo (the failure came before the CRM accepted anything) it says nothing.
    """
    if not undone:
        return
    if not failed:
        log.error("The local write failed after the CRM accepted it; compensated: %s", what)
        return
    log.error("The local write failed after the CRM accepted it; compensation FAILED (%s) for: %s", what, failed)
    raise CompensationFailedError(failed, cause) from cause


def save_raw(instance, using=None):
    """Push a raw save (a reverted version, a fixture) to the CRM and store its answer locally.

    Every mapped field is sent (a MERGE, or a create under the row's key if the CRM no
    longer has the record); the caller's raw save then writes the same row again.
    """
    using = alias_for_write(type(instance), instance, using)
    migrator = get_migrator(instance)
    migrator.refuse_read_only("save")
    state = capture_state(instance)
    client = get_client()
    key = instance.cdms_pk or str(uuid.uuid4())
    done = None
    intents = Intents(using)
    try:
        with transaction.atomic(using=using):
            before = _lock_row(instance, using) if instance.pk is not None else None
            instance.cdms_pk = key
            body = crm_values(instance, migrator.fields, strict=False)
            if before is None:
                intents.add(migrator.service, key, "create", {"values": body})
            else:
                undo = {"before": restore_body(instance, before, using), "after": body}
                intents.add(migrator.service, key, "update", undo)
            try:
                client.update(migrator.service, key, body)
                done = "merged"
                record = fetch.record(migrator, key)
            except CDMSNotFoundError:
                record = client.create(migrator.service, body, key=key)
                done = "created"
            # A recovered deletion has no local row yet: the answer is inserted, under its old pk.
            store(instance, record, using, insert=before is None)
        intents.joined()
    except BaseException:
        restore_state(instance, state)
        undone = True
        if done == "created":
            undone = compensate(f"delete {migrator.service} {key}", client.delete, migrator.service, key)
        elif done == "merged" and before is not None:
            body = restore_body(instance, before, using)
            undone = compensate(f"restore {migrator.service} {key}", client.update, migrator.service, key, body)
        if undone:  # otherwise the intents stay, for the follower to settle
            intents.abandon()
        raise


def local_revision(using):
    """A revision block whose version of the instance is added only once the write succeeded.

    Inside an outer revision (the request middleware's), a nested block hands its versions up
    even when it raises, so versions are added by hand, after the CRM accepted the write.
    Without one, this block is the outermost: the revision is written at its end, inside the
    writer's transaction, where a failure is compensated like any other local failure.
    """
    return reversion.create_revision(manage_manually=True, using=using)


def rehearse_version(instance, using, outer):
    """Inside an outer revision block, write the instance's version now in a rolled-back savepoint.

    That block writes the real one when it ends, after the CRM call; a version the database
    refuses (a constraint, a trigger, a full disk) is then refused here, before the CRM is asked.
    """
    if outer:
        rehearse(lambda: record_versions(type(instance), [instance], comment="", using=using), using)


def _create(instance, migrator, using, kwargs):
    client = get_client()
    pending = instance.__dict__.get(PENDING_KEY)
    key = pending or str(uuid.uuid4())
    created = False
    outer = reversion.is_active()
    intents = Intents(using)
    try:
        with transaction.atomic(using=using), local_revision(using):
            instance.cdms_pk = key
            if pending and instance.pk is None and adopt_local_row(instance, using):
                kwargs = {**kwargs, "force_insert": False}
            save_locally(instance, using, **kwargs)
            check_deferred(using, type(instance))
            rehearse_version(instance, using, outer)
            body = crm_values(instance, migrator.fields)
            intents.add(migrator.service, key, "create", {"values": body})
            asked = timezone.now()
            record = post_create(client, migrator, instance, key, body)
            created = True
            store(instance, record, using, asked)
            reversion.add_to_revision(instance)
        intents.joined()
        instance.__dict__.pop(PENDING_KEY, None)
    except BaseException as exc:
        if created:
            undone = _quietly(settle.delete, migrator, key)
            if undone:
                instance.__dict__.pop(PENDING_KEY, None)
            else:
                instance.__dict__[PENDING_KEY] = key  # the record stays: a retry takes it over
            report(f"delete {migrator.service} {key}", [] if undone else [f"{migrator.service} {key}"], exc)
        intents.abandon()
        raise


def post_create(client, migrator, instance, key, body):
    """POST a create; a lost answer is settled, and this create's own earlier record taken over."""
    try:
        return client.create(migrator.service, body, key=key)
    except CDMSDuplicateKeyError:
        # The key is this create's own: an earlier attempt landed after all (a request repeated
        # with fresh credentials, or a failed call retried). Take its record over.
        log.warning("%s %s: an earlier attempt of this create had landed; taking it over", migrator.service, key)
        if instance.__dict__.get(PENDING_KEY) == key:
            client.update(migrator.service, key, body)
        return client.get(migrator.service, key)
    except CDMSError:
        settle_lost_create(client, migrator, instance, key)
        raise


def settle_lost_create(client, migrator, instance, key):
    """After a failed POST: remove its record if it landed anyway; keep the key for a retry."""
    instance.__dict__[PENDING_KEY] = key
    try:
        client.get(migrator.service, key)
    except CDMSNotFoundError:
        return
    except CDMSError as exc:
        log.warning("%s %s: create failed and could not be checked (%s)", migrator.service, key, exc)
        return
    try:
        settle.delete(migrator, key)
        log.warning("%s %s: create failed, but its record landed; removed it", migrator.service, key)
    except CDMSError as exc:
        log.warning("%s %s: create failed; its record landed, removing it failed: %s", migrator.service, key, exc)


def adopt_local_row(instance, using):
    """A read may have brought in the record of an earlier attempt: reuse its local row (True if so)."""
    existing = local_rows(type(instance), using).filter(cdms_pk=instance.cdms_pk).values_list("pk", flat=True)
    pk = existing.first()
    if pk is None:
        return False
    instance.pk = pk
    instance._state.adding = False
    return True


def _update(instance, migrator, using, kwargs, local_newer_wins=False):
    names = field_names(instance, kwargs.pop("update_fields", None))
    client = get_client()
    merged = False
    outer = reversion.is_active()
    intents = Intents(using)
    try:
        with transaction.atomic(using=using), local_revision(using):
            current = _lock_row(instance, using)
            guarded = None if local_newer_wins else current
            changed = [name for name in changed_fields(instance) if names is None or name in names]
            before = current or getattr(instance, "_cdms_snapshot", None) or {}
            if current is not None:
                _take_unchanged(instance, migrator, current, changed)
                kwargs["update_fields"] = [*changed, *_local_only(instance, migrator, names)]
            elif names is not None:
                kwargs["update_fields"] = names
            save_locally(instance, using, **kwargs)
            check_deferred(using, type(instance))
            rehearse_version(instance, using, outer)
            if changed:
                after = crm_values(instance, changed)
                old = restore_body(instance, {name: before[name] for name in changed if name in before}, using)
                old.update(_references_elsewhere(client, migrator, instance, changed, before))
                intents.add(migrator.service, instance.cdms_pk, "update", {"before": old, "after": after})
                record = settle.merge(migrator, instance.cdms_pk, after)
                merged = True
                if record is None:
                    _reread(client, migrator, instance, using, guarded)
                else:
                    refuse_local_newer(instance, guarded, record)
                    store(instance, record, using)
            take_snapshot(instance)
            reversion.add_to_revision(instance)
        intents.joined()
    except BaseException as exc:
        if merged and before:
            what = f"restore {migrator.service} {instance.cdms_pk}"
            undone = _quietly(client.update, migrator.service, instance.cdms_pk, old)
            report(what, [] if undone else [f"{migrator.service} {instance.cdms_pk}"], exc)
        intents.abandon()
        raise


def _references_elsewhere(client, migrator, instance, changed, before):
    """The CRM's own value of each changed lookup that may point elsewhere and had no local parent.

    Locally such a lookup is empty both when the CRM's is and when it points at another entity
    (a contact whose parent customer is a contact): only the CRM can say what an undo restores.
    One GET, and only for such a change.
    """
    names = [
        name
        for name in changed
        if getattr(migrator.fields.get(name), "other_targets", ()) and before.get(name) is None
    ]
    if not names or instance.cdms_pk is None:
        return {}
    attributes = [migrator.fields[name].cdms_name for name in names]
    record = client.get(migrator.service, instance.cdms_pk, select=attributes)
    members = ("Id", "LogicalName")
    return {attribute: {m: (record.get(attribute) or {}).get(m) for m in members} for attribute in attributes}


def refuse_local_newer(instance, current, record):
    """Raise ObjectsNotInSyncError if the locked local row is newer than the CRM's record even after this write.

    Such a row was changed bypassing the CRM (`skip_cdms`); storing the CRM's answer would
    silently replace that change, so the write is refused and undone in the CRM instead.
    """
    if current is None:
        return
    migrator = get_migrator(instance)
    crm = migrator.from_cdms(record)
    local = (current["modified"], current["cdms_version"])
    if sync_state(local, (crm["modified"], crm["cdms_version"])) == LOCAL_NEWER:
        raise ObjectsNotInSyncError(type(instance), [instance.cdms_pk])


def _reread(client, migrator, instance, using, current=None):
    asked = timezone.now()
    try:
        record = fetch.record(migrator, instance.cdms_pk)
    except CDMSError as exc:
        # The MERGE landed; keep the old `modified` so the next read finds the CRM newer
        # and converges.
        log.warning("%s %s: updated, but re-reading it failed: %s", migrator.service, instance.cdms_pk, exc)
        return
    refuse_local_newer(instance, current, record)
    store(instance, record, using, asked)


def _lock_row(instance, using):
    """Lock the instance's local row; returns its mapped and system values (None if it has none)."""
    migrator = get_migrator(instance)
    attnames = {name: instance._meta.get_field(name).attname for name in [*migrator.fields, *SYSTEM_FIELDS]}
    row = local_rows(type(instance), using).select_for_update().filter(pk=instance.pk)
    values = row.values(*attnames.values()).first()
    if values is None:
        return None
    return {name: values[attname] for name, attname in attnames.items()}


def _take_unchanged(instance, migrator, current, changed):
    """What the caller did not change is written as the local row holds it, never from a stale instance."""
    for name, value in current.items():
        if name not in changed:
            setattr(instance, instance._meta.get_field(name).attname, value)


def _local_only(instance, migrator, names):
    """Concrete fields the CRM does not hold (written locally as given)."""
    synced = {*migrator.fields, *SYSTEM_FIELDS, "cdms_pk"}
    fields = [f.name for f in instance._meta.concrete_fields if not f.primary_key and f.name not in synced]
    return [name for name in fields if names is None or name in names]


def field_names(instance, names):
    """Field names for names or attnames (`organisation_id` -> `organisation`); None stays None."""
    if names is None:
        return None
    return [instance._meta.get_field(name).name for name in names]


def crm_values(instance, names, strict=True):
    """The CRM JSON of the named mapped fields of an instance (foreign keys as CRM keys).

    `strict`: a field the CRM does not write that holds a value raises (see `to_cdms`).
    """
    migrator = get_migrator(instance)
    values = {}
    for name in names:
        field = instance._meta.get_field(name)
        if field.is_relation:
            related = getattr(instance, name)
            if related is not None and related.cdms_pk is None:
                raise ValueError(
                    f"{instance._meta.label}.{name} refers to {related._meta.label} {related.pk}, "
                    "which is not in the CRM (it was saved with skip_cdms)."
                )
            values[name] = related.cdms_pk if related is not None else None
        else:
            values[name] = getattr(instance, field.attname)
    return migrator.to_cdms(values, strict=strict)


def apply_record(instance, record, using=None):
    """Copy a CRM record onto an instance (see `apply_records`); returns the field names set."""
    return apply_records([(instance, record)], alias_for_write(type(instance), instance, using))


def apply_records(pairs, using):
    """Copy CRM records onto (instance, record) pairs of one model; returns the field names set.

    Foreign keys to parents that are not local yet are fetched, as reconcile does.
    """
    if not pairs:
        return []
    model = type(pairs[0][0])
    migrator = get_migrator(model)
    rows = [migrator.from_cdms(record) for _, record in pairs]
    resolve_foreign_keys(model, rows, using)
    names = [*migrator.fields, *SYSTEM_FIELDS, "cdms_pk"]
    for (instance, _), values in zip(pairs, rows, strict=True):
        for name in names:
            setattr(instance, instance._meta.get_field(name).attname, values[name])
        take_snapshot(instance)
    return [*migrator.fields, *SYSTEM_FIELDS]


def store(instance, record, using, asked_at=None, insert=False):
    """Copy a CRM record onto an instance and write it locally (its parents fetched if not local).

    `asked_at`: when the request that answered `record` was sent, recorded as its vouch.
    `insert`: the instance has no local row yet (a recovered deletion): insert it.
    """

    def write():
        names = apply_records([(instance, record)], using)
        if insert:
            save_locally(instance, using, force_insert=True)
        else:
            save_locally(instance, using, update_fields=names)

    retrying_vanished_parents(write, using)
    vouch(type(instance), [instance.cdms_pk], asked_at, using)


def restore_body(instance, values, using):
    """CRM JSON that puts back `values` (mapped field name -> local value, foreign keys by local id)."""
    migrator = get_migrator(instance)
    body = {}
    for name, value in values.items():
        if name not in migrator.fields or not migrator.fields[name].writable:
            continue
        field = instance._meta.get_field(name)
        if field.is_relation and value is not None:
            related = local_rows(field.related_model, using).filter(pk=value)
            value = related.values_list("cdms_pk", flat=True).first()
        body[migrator.fields[name].cdms_name] = migrator.fields[name].to_cdms(value)
    return body


def compensate(what, call, *args, **kwargs):
    """Undo in the CRM what a failed local write had made it do; log either way; True if undone."""
    try:
        call(*args, **kwargs)
    except CDMSError as exc:
        log.error("The local write failed after the CRM accepted it; compensation FAILED (%s): %s", what, exc)
        return False
    log.error("The local write failed after the CRM accepted it; compensated: %s", what)
    return True
