"""Writes through the CRM: the CRM call and the local write succeed together or not at all.

- create: insert locally (so local constraint errors surface first), POST with a
  client-generated key (a retried POST cannot create twice), store the CRM's timestamps.
- update: write locally, MERGE only the changed mapped fields, GET the record and store
  it (which also brings in what others changed in the CRM meanwhile).
- delete: delete locally, DELETE in the CRM (a 404 counts as done).
A failed CRM call rolls the local write back. A local failure after the CRM call succeeded
is compensated in the CRM (the record deleted, the old values merged back, or the deleted
record re-created under its key), and logged.
"""

import logging
import uuid

from django.db import models, transaction
from reversion import revisions as reversion

from cdms_api.exceptions import CDMSError, CDMSNotFoundError

from .cdms_migrator import SYSTEM_FIELDS, get_migrator
from .connection import get_client
from .reconcile import local_ids
from .snapshot import changed_fields, mapped_values, take_snapshot

log = logging.getLogger("migrator.writes")


def crm_values(instance, names):
    """The CRM JSON of the named mapped fields of an instance (foreign keys as CRM keys)."""
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
    return migrator.to_cdms(values)


def apply_record(instance, record):
    """Copy a CRM record's mapped and system values onto an instance; returns the field names."""
    return apply_records([(instance, record)])


def apply_records(pairs):
    """`apply_record` for (instance, record) pairs of one model, one query per foreign key."""
    if not pairs:
        return []
    migrator = get_migrator(pairs[0][0])
    rows = [(instance, migrator.from_cdms(record)) for instance, record in pairs]
    for name in migrator.lookup_fields():
        field = pairs[0][0]._meta.get_field(name)
        ids = local_ids(field.related_model, {values[name] for _, values in rows if values[name]})
        for instance, values in rows:
            setattr(instance, field.attname, ids.get(values[name]))
    plain = [*migrator.fields, *SYSTEM_FIELDS, "cdms_pk"]
    for instance, values in rows:
        for name in plain:
            if name not in migrator.lookup_fields():
                setattr(instance, name, values[name])
        take_snapshot(instance)
    return [*migrator.fields, *SYSTEM_FIELDS]


def store_locally(instance, names):
    """Save the named fields without going through the CRM again."""
    models.Model.save(instance, update_fields=names)


def local_revision():
    """A revision block whose version of the instance is added only once the write succeeded.

    Inside an outer revision (the request middleware's), a nested block hands its versions up
    even when it raises, so versions are added by hand, after the CRM accepted the write.
    """
    return reversion.create_revision(manage_manually=True)


def save_through_cdms(instance, local_save, update_fields=None):
    """Save an instance locally and in the CRM as one unit (only `update_fields`, if given)."""
    if instance.cdms_pk is None:
        return _create(instance, local_save)
    return _update(instance, local_save, update_fields)


def _create(instance, local_save):
    migrator = get_migrator(instance)
    key = str(uuid.uuid4())
    created = False
    try:
        with transaction.atomic(), local_revision():
            instance.cdms_pk = key
            local_save()
            record = get_client().create(migrator.service, crm_values(instance, migrator.fields), key=key)
            created = True
            store_locally(instance, apply_record(instance, record))
            reversion.add_to_revision(instance)
    except BaseException:
        instance.cdms_pk = None
        if created:
            _compensate(f"delete {migrator.service} {key}", get_client().delete, migrator.service, key)
        raise


def _update(instance, local_save, update_fields=None):
    migrator = get_migrator(instance)
    changed = changed_fields(instance)
    if update_fields is not None:
        changed = [name for name in changed if name in set(update_fields)]
    before = getattr(instance, "_cdms_snapshot", None)
    merged = False
    try:
        with transaction.atomic(), local_revision():
            local_save()
            if not changed:
                reversion.add_to_revision(instance)
                return
            client = get_client()
            client.update(migrator.service, instance.cdms_pk, crm_values(instance, changed))
            merged = True
            try:
                record = client.get(migrator.service, instance.cdms_pk)
            except CDMSError as exc:
                # The MERGE landed; keep the old `modified` so the next read finds the CRM
                # newer and converges.
                log.warning(
                    "%s %s: updated, but re-reading it failed: %s", migrator.service, instance.cdms_pk, exc
                )
                take_snapshot(instance)
                reversion.add_to_revision(instance)
                return
            store_locally(instance, apply_record(instance, record))
            reversion.add_to_revision(instance)
    except BaseException:
        if merged and before is not None:
            restore = {name: before[name] for name in changed}
            _compensate(
                f"restore {migrator.service} {instance.cdms_pk}",
                get_client().update,
                migrator.service,
                instance.cdms_pk,
                _restore_body(instance, migrator, restore),
            )
        raise


def _restore_body(instance, migrator, values):
    body = {}
    for name, value in values.items():
        field = instance._meta.get_field(name)
        if field.is_relation:
            related = field.related_model._base_manager.filter(pk=value).values_list("cdms_pk", flat=True).first()
            value = related
        body[migrator.fields[name].cdms_name] = migrator.fields[name].to_cdms(value)
    return body


def delete_through_cdms(instance, local_delete):
    """Delete an instance locally and in the CRM as one unit."""
    migrator = get_migrator(instance)
    key = instance.cdms_pk
    if key is None:
        return local_delete()
    values = mapped_values(instance)
    deleted = False
    try:
        with transaction.atomic():
            result = local_delete()
            _delete_remote(migrator, key)
            deleted = True
        return result
    except BaseException:
        if deleted:
            _compensate(
                f"re-create {migrator.service} {key}",
                get_client().create,
                migrator.service,
                _restore_body(instance, migrator, values),
                key=key,
            )
        raise


def _delete_remote(migrator, key):
    try:
        get_client().delete(migrator.service, key)
    except CDMSNotFoundError:
        log.info("%s %s was already gone from the CRM", migrator.service, key)


def _compensate(what, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
        log.error("The local write failed after the CRM accepted it; compensated: %s", what)
    except CDMSError as exc:
        log.error("The local write failed after the CRM accepted it; compensation FAILED (%s): %s", what, exc)
