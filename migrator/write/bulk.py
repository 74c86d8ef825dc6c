"""Bulk writes through the CRM: `bulk_create`, `bulk_update`, queryset `update()` and `delete()`.

They follow the single writes of `writes`, row by row: each row is written to the CRM by
its own request over a bounded pool of concurrent requests (CDMS_WRITE_CONCURRENCY; each
thread has its own client), and the rows the CRM accepted are then written locally in
bulk, inside one transaction that holds the rows' locks (taken in `cdms_pk` order). Rows
the CRM refused are reported in a BulkWriteError (`failures`: (instance, exception) pairs,
`succeeded`: instances) and their local rows stay as they were, matching the CRM. When the
local step fails after the CRM accepted, the accepted rows are compensated in the CRM (the
created records deleted, the old values merged back, the deleted records re-created) and
the error is raised; the instances are then as they were before the call.
"""

import contextvars
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.db import models, transaction
from django.db.models.expressions import Combinable
from django.utils import timezone

from cdms_api.exceptions import CDMSError

from .. import fetch
from ..cdms_migrator import SYSTEM_FIELDS, get_migrator
from ..conf import cdms_settings
from ..connection import get_client
from ..exceptions import BulkWriteError, NotSupportedError
from ..local import check_deferred, local_rows, rehearse, retrying_vanished_parents
from ..mirror.journal import new_intent
from ..mirror.reconcile import reconcile_page
from ..mirror.revisions import record_versions
from . import settle
from .cascade import (
    describe,
    only_under,
    read_cascade,
    record_key,
    recreate_body,
    refresh_stale_links,
    remove_cascade,
    with_removed,
)
from .snapshot import capture_state, restore_state
from .unit import Intents
from .writer import (
    PENDING_KEY,
    adopt_local_row,
    apply_records,
    crm_values,
    delete_undo,
    post_create,
    report,
    restore_body,
)


def run_concurrently(call, items):
    """Run `call(item)` for each item over the bounded pool; returns (succeeded, failures)."""
    if not items:
        return [], []

    def attempt(item):
        try:
            return item, call(item), None
        except CDMSError as exc:
            return item, None, exc

    workers = max(1, min(cdms_settings.CDMS_WRITE_CONCURRENCY, len(items)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cdms-write") as pool:
        # Each request runs in a copy of the caller's context, so its log line carries the request id.
        contexts = [contextvars.copy_context() for _ in items]
        outcomes = list(pool.map(lambda context, item: context.run(attempt, item), contexts, items))
    succeeded = [(item, result) for item, result, exc in outcomes if exc is None]
    failures = [(item, exc) for item, _, exc in outcomes if exc is not None]
    return succeeded, failures


class _Restored:
    """Puts instances back as they were when the block raises (or on `restore(some)`)."""

    def __init__(self, instances):
        self.states = [(instance, capture_state(instance)) for instance in instances]

    def restore(self, only=None):
        wanted = None if only is None else {id(instance) for instance in only}
        for instance, state in self.states:
            if wanted is None or id(instance) in wanted:
                restore_state(instance, state)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc_info):
        if exc_type is not None:
            self.restore()
        return False


def bulk_create(queryset, objs, batch_size=None, ignore_conflicts=False, update_conflicts=False, **kwargs):
    """Create every object locally (one statement), in the CRM (concurrently), then store the CRM's answers.

    As with a single create, the local rows come first (local constraint errors surface before
    the CRM is touched, and a concurrent read that meets a new record waits for its row);
    the rows of the objects the CRM refused are removed again before the commit.
    """
    model, using = queryset.model, queryset.db
    migrator = get_migrator(model)
    migrator.refuse_read_only("bulk_create")
    if ignore_conflicts or update_conflicts:
        raise NotSupportedError("bulk_create", "conflict handling cannot be mirrored in the CRM")
    with _Restored(objs) as restored:
        bodies = {}
        for obj in objs:
            obj.cdms_pk = obj.cdms_pk or obj.__dict__.get(PENDING_KEY) or str(uuid.uuid4())
            # A related row missing from the CRM fails here, before any request.
            bodies[obj.cdms_pk] = crm_values(obj, migrator.fields)
        # As a single create: a lost answer is settled (its key kept for the retry), and a
        # retry whose earlier record landed takes it over.
        create = lambda obj: post_create(get_client(), migrator, obj, obj.cdms_pk, bodies[obj.cdms_pk])  # noqa: E731
        created = []
        intents = Intents(using)
        try:
            with transaction.atomic(using=using):
                adopted = {id(obj) for obj in objs if _pending(obj) and adopt_local_row(obj, using)}
                new = [obj for obj in objs if id(obj) not in adopted]
                local_rows(model, using).bulk_create(new, batch_size=batch_size)
                check_deferred(using, model)
                intents.add_many(
                    [new_intent(migrator.service, key, "create", {"values": body}) for key, body in bodies.items()]
                )
                succeeded, failures = run_concurrently(create, objs)
                created = _items(succeeded)
                local_rows(model, using).filter(pk__in=[obj.pk for obj in _items(failures)]).delete()
                _store_created(model, using, migrator, succeeded)
            intents.joined()
        except BaseException as exc:
            _, failed = run_concurrently(lambda obj: settle.delete(migrator, obj.cdms_pk), created)
            for obj, _ in failed:
                obj.__dict__[PENDING_KEY] = obj.cdms_pk  # the record stays: a retry takes it over
            report(f"delete {len(created)} {migrator.service}", _keys(failed, migrator), exc, len(created))
            intents.abandon()
            raise
        restored.restore(_items(failures))
    for obj in created:
        obj.__dict__.pop(PENDING_KEY, None)
    if failures:
        raise BulkWriteError("bulk_create", failures, created)
    return created


def _pending(obj):
    return obj.pk is None and obj.__dict__.get(PENDING_KEY) == obj.cdms_pk


def _store_created(model, using, migrator, succeeded):
    if not succeeded:
        return
    created = _items(succeeded)
    names = apply_records(succeeded, using)
    retrying_vanished_parents(lambda: local_rows(model, using).bulk_update(created, names), using)
    record_versions(model, created, comment="Created in bulk", using=using)


def update_queryset(queryset, values):
    """`queryset.update(**values)` in the CRM, then locally; returns the number of rows updated."""
    model = queryset.model
    get_migrator(model).refuse_read_only("update")
    for name, value in values.items():
        if isinstance(value, Combinable) or hasattr(value, "resolve_expression"):
            raise NotSupportedError("update", f"{name}={value!r} is an expression the CRM cannot evaluate")
    rows = list(queryset.order_by())
    values = {
        model._meta.get_field(name).attname: value.pk if isinstance(value, models.Model) else value
        for name, value in values.items()
    }
    for row in rows:
        for attname, value in values.items():
            setattr(row, attname, value)
    return _write_rows(model, queryset.db, "update", rows, list(values))


def bulk_update(queryset, objs, fields):
    """`bulk_update(objs, fields)` in the CRM, then locally; returns the number of rows updated."""
    get_migrator(queryset.model).refuse_read_only("bulk_update")
    return _write_rows(queryset.model, queryset.db, "bulk_update", objs, list(fields))


def _write_rows(model, using, operation, rows, names):
    """Write the named fields of each row locally, MERGE the mapped ones, put back the rows the CRM refused.

    The local statement and its foreign keys are checked before any MERGE is sent, so a write
    the local database refuses never reaches the CRM.
    """
    migrator = get_migrator(model)
    names = [model._meta.get_field(name).name for name in names]
    mapped = [name for name in names if name in migrator.fields]
    accepted = []
    intents = Intents(using)
    with _Restored(rows):
        try:
            with transaction.atomic(using=using):
                before = _lock(model, [row.pk for row in rows], using, names)
                # A row another process deleted since it was read is not there to update, as in
                # Django's own update(): it is left out, locally and in the CRM.
                rows = [row for row in rows if row.pk in before]
                remote = [row for row in rows if row.cdms_pk] if mapped else []
                # Bodies are made here: the pool's threads have their own database connections.
                bodies = {id(row): crm_values(row, mapped) for row in remote}
                olds = {id(row): restore_body(row, _only(before[row.pk], mapped), using) for row in remote}
                local_rows(model, using).bulk_update(rows, names)
                check_deferred(using, model)
                undo = lambda row: {"before": olds[id(row)], "after": bodies[id(row)]}  # noqa: E731
                intents.add_many([new_intent(migrator.service, r.cdms_pk, "update", undo(r)) for r in remote])
                merge = lambda row: settle.merge(migrator, row.cdms_pk, bodies[id(row)])  # noqa: E731
                accepted, failures = run_concurrently(merge, remote)
                _put_back(model, [row for row, _ in failures], before, names, using)
                _reread(model, using, migrator, _items(accepted), f"Changed in bulk ({operation})")
            intents.joined()
        except BaseException as exc:
            undone = [row for row in _items(accepted) if row.pk in before]
            bodies = {id(row): restore_body(row, _only(before[row.pk], mapped), using) for row in undone}
            update = lambda row: get_client().update(migrator.service, row.cdms_pk, bodies[id(row)])  # noqa: E731
            _, failed = run_concurrently(update, undone)
            report(f"restore {len(undone)} {migrator.service}", _keys(failed, migrator), exc, len(undone))
            intents.abandon()
            raise
    refused = {id(row) for row, _ in failures}
    written = [row for row in rows if id(row) not in refused]
    if failures:
        raise BulkWriteError(operation, failures, written)
    return len(written)


def _put_back(model, rows, before, names, using):
    """Write back, row by row, what the rows the CRM refused held before (they stay as the CRM has them)."""
    for row in rows:
        values = {model._meta.get_field(name).attname: before[row.pk][name] for name in names}
        local_rows(model, using).filter(pk=row.pk).update(**values)


def _reread(model, using, migrator, rows, comment):
    """Store what the CRM now holds for rows it accepted (its ModifiedOn, anything it normalised)."""
    by_key = {row.cdms_pk: row for row in rows}
    records = []
    asked = timezone.now()
    for page in fetch.by_keys(migrator, set(by_key)):
        reconcile_page(model, page, comment=comment, using=using, asked_at=asked)
        records.extend(page)
    key = migrator.key_attribute
    apply_records([(by_key[record[key].lower()], record) for record in records], using)


def delete_queryset(queryset):
    """`queryset.delete()` in the CRM, then locally; returns Django's (count, per-model counts).

    As a single delete: what the CRM's deletes cascade to is read first, and its local rows
    are removed with the rows deleted; the rows the CRM refused keep theirs, and their children.
    Which rows the CRM refuses is known only after the DELETEs, so the local delete of them all
    is rehearsed first, in a savepoint rolled back: a delete the local database refuses never
    reaches the CRM.
    """
    model, using = queryset.model, queryset.db
    migrator = get_migrator(model)
    migrator.refuse_read_only("delete")
    pks = list(queryset.order_by().values_list("pk", flat=True))
    done, taken = [], []
    intents = Intents(using)
    try:
        with transaction.atomic(using=using):
            rows = list(local_rows(model, using).select_for_update().filter(pk__in=pks).order_by("cdms_pk"))
            remote = [row for row in rows if row.cdms_pk]
            taken = read_cascade(model, {row.cdms_pk for row in remote})
            refresh_stale_links(model, [row.pk for row in rows], taken, using)
            undo = lambda row: delete_undo(row, _mapped(row, migrator), only_under(taken, {row.cdms_pk}), using)  # noqa: E731
            undos = [new_intent(migrator.service, row.cdms_pk, "delete", undo(row)) for row in remote]
            rehearse(lambda: _delete_locally(model, rows, taken, using), using)
            intents.add_many(undos)
            done, failures = run_concurrently(lambda row: settle.delete(migrator, row.cdms_pk), remote)
            deleted = [row for row in rows if not row.cdms_pk] + _items(done)
            taken = only_under(taken, {row.cdms_pk for row in _items(done)})
            result = _delete_locally(model, deleted, taken, using)
        intents.joined()
    except BaseException as exc:
        if done:
            _undo_deletes(migrator, _items(done), taken, using, exc)
        intents.abandon()
        raise
    if failures:
        raise BulkWriteError("delete", failures, deleted)
    return result


def _delete_locally(model, rows, taken, using):
    """Delete the rows and what the CRM's deletes took, check the deferred keys; Django's (count, per model)."""
    removed = remove_cascade(model, [row.pk for row in rows], taken, using)
    result = local_rows(model, using).filter(pk__in=[row.pk for row in rows]).delete()
    check_deferred(using, model, deleting=True)
    return with_removed(result, removed)


def _undo_deletes(migrator, rows, taken, using, exc):
    """Re-create the deleted records under their keys, then their children; log what was restored."""
    bodies = {id(row): restore_body(row, _mapped(row, migrator), using) for row in rows}
    create = lambda row: get_client().create(migrator.service, bodies[id(row)], key=row.cdms_pk)  # noqa: E731
    _, failed = run_concurrently(create, rows)
    missing = _keys(failed, migrator)
    for child, records in taken:
        service = get_migrator(child).service
        again = lambda r, child=child, service=service: get_client().create(  # noqa: E731
            service, recreate_body(child, r), key=record_key(child, r)
        )
        _, failed = run_concurrently(again, records)
        missing += [f"{service} {record_key(child, r)}" for r, _ in failed]
    what = f"re-create {len(rows)} {migrator.service}"
    if taken:
        what += f" and what their deletes took: {describe(taken)}"
    report(what, missing, exc)


def _keys(failed, migrator):
    return [f"{migrator.service} {item.cdms_pk}" for item, _ in failed]


def _lock(model, pks, using, names=()):
    """Lock the rows in `cdms_pk` order; returns {pk: {field name: value}} of their synced (and named) fields."""
    migrator = get_migrator(model)
    attnames = {name: model._meta.get_field(name).attname for name in [*migrator.fields, *SYSTEM_FIELDS, *names]}
    rows = local_rows(model, using).select_for_update().filter(pk__in=pks).order_by("cdms_pk")
    return {row["pk"]: {n: row[a] for n, a in attnames.items()} for row in rows.values("pk", *attnames.values())}


def _mapped(row, migrator):
    return {name: getattr(row, row._meta.get_field(name).attname) for name in migrator.fields}


def _only(values, names):
    return {name: values[name] for name in names}


def _items(pairs):
    return [item for item, _ in pairs]
