"""Bulk writes through the CRM: `bulk_create`, `bulk_update`, queryset `update()` and `delete()`.

Each row is written to the CRM by its own request over a bounded pool of concurrent
requests (CDMS_WRITE_CONCURRENCY; each thread has its own client). The rows the CRM
accepted are then written locally in bulk; rows the CRM refused are reported in a
BulkWriteError, and their local rows stay as they were, matching the CRM.
"""

import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.db import models, transaction
from django.db.models.expressions import Combinable

from cdms_api.exceptions import CDMSError, CDMSNotFoundError

from . import fetch
from .cdms_migrator import get_migrator
from .conf import cdms_settings
from .connection import get_client
from .exceptions import BulkWriteError, NotSupportedError
from .reconcile import reconcile_page
from .revisions import record_versions
from .writes import apply_records, crm_values


def run_concurrently(call, items):
    """Run `call(item)` for each item over the bounded pool; returns (succeeded, failures)."""

    def attempt(item):
        try:
            return item, call(item), None
        except CDMSError as exc:
            return item, None, exc

    workers = max(1, min(cdms_settings.CDMS_WRITE_CONCURRENCY, len(items)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cdms-write") as pool:
        outcomes = list(pool.map(attempt, items))
    succeeded = [(item, result) for item, result, exc in outcomes if exc is None]
    failures = [(item, exc) for item, _, exc in outcomes if exc is not None]
    return succeeded, failures


def bulk_create(queryset, objs, batch_size=None, ignore_conflicts=False, update_conflicts=False, **kwargs):
    """Create every object in the CRM, then locally in bulk."""
    if ignore_conflicts or update_conflicts:
        raise NotSupportedError("bulk_create", "conflict handling cannot be mirrored in the CRM")
    migrator = get_migrator(queryset.model)
    bodies = {}
    for obj in objs:
        obj.cdms_pk = obj.cdms_pk or str(uuid.uuid4())
        # A related row missing from the CRM fails here, before any request.
        bodies[obj.cdms_pk] = crm_values(obj, migrator.fields)
    create = lambda obj: get_client().create(migrator.service, bodies[obj.cdms_pk], key=obj.cdms_pk)  # noqa: E731
    succeeded, failures = run_concurrently(create, objs)
    apply_records(succeeded)
    created = [obj for obj, _ in succeeded]
    for obj, _ in failures:
        obj.cdms_pk = None
    try:
        with transaction.atomic(using=queryset.db):
            models.QuerySet(queryset.model, using=queryset.db).bulk_create(created, batch_size=batch_size)
            record_versions(queryset.model, created, comment="Created in bulk", using=queryset.db)
    except BaseException:
        run_concurrently(lambda obj: get_client().delete(migrator.service, obj.cdms_pk), created)
        raise
    if failures:
        raise BulkWriteError("bulk_create", failures, created)
    return created


def update_queryset(queryset, values):
    """`queryset.update(**values)` in the CRM, then locally; returns the number of rows updated."""
    for name, value in values.items():
        if isinstance(value, Combinable) or hasattr(value, "resolve_expression"):
            raise NotSupportedError("update", f"{name}={value!r} is an expression the CRM cannot evaluate")
    rows = list(queryset.order_by())
    for row in rows:
        for name, value in values.items():
            setattr(row, queryset.model._meta.get_field(name).attname, value)
    return _write_rows(queryset, "update", rows, list(values))


def bulk_update(queryset, objs, fields):
    """`bulk_update(objs, fields)` in the CRM, then locally; returns the number of rows updated."""
    return _write_rows(queryset, "bulk_update", objs, list(fields))


def _write_rows(queryset, operation, rows, names):
    """MERGE the named mapped fields of each row, then write locally the rows the CRM accepted."""
    migrator = get_migrator(queryset.model)
    mapped = [name for name in names if name in migrator.fields]
    remote = [row for row in rows if row.cdms_pk] if mapped else []
    merge = lambda row: get_client().update(migrator.service, row.cdms_pk, crm_values(row, mapped))  # noqa: E731
    accepted, failures = run_concurrently(merge, remote) if remote else ([], [])
    refused = {id(row) for row, _ in failures}
    written = [row for row in rows if id(row) not in refused]
    with transaction.atomic(using=queryset.db):
        models.QuerySet(queryset.model, using=queryset.db).bulk_update(written, names)
        # Re-read what the CRM now holds: its ModifiedOn, and anything it normalised.
        for page in fetch.by_keys(migrator, {row.cdms_pk for row, _ in accepted}):
            reconcile_page(queryset.model, page, comment=f"Changed in bulk ({operation})")
    if failures:
        raise BulkWriteError(operation, failures, written)
    return len(written)


def delete_queryset(queryset):
    """`queryset.delete()` in the CRM, then locally; returns Django's (count, per-model counts)."""
    migrator = get_migrator(queryset.model)
    rows = list(queryset.order_by().values_list("pk", "cdms_pk"))
    remote = [row for row in rows if row[1]]

    def delete(row):
        with contextlib.suppress(CDMSNotFoundError):
            get_client().delete(migrator.service, row[1])

    done, failures = run_concurrently(delete, remote)
    pks = [pk for pk, key in rows if not key] + [row[0] for row, _ in done]
    result = models.QuerySet(queryset.model, using=queryset.db).filter(pk__in=pks).delete()
    if failures:
        raise BulkWriteError("delete", [(row[1], exc) for row, exc in failures], [row[1] for row, _ in done])
    return result
