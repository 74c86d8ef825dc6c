"""django-reversion glue: versions for rows written in bulk by the sync layer.

Rows refreshed from the CRM are written with one SQL statement per page, bypassing
model signals, so their versions are recorded here, also in bulk: one revision with
the comment `CDMS refresh` per refreshed row, written with two statements a page.
"""

import json

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.utils import timezone
from reversion.models import Revision, Version

from ..local import alias_for_write
from .rows_sql import column_types, rows_source

REFRESH_COMMENT = "CDMS refresh"


BATCH = 500  # rows per INSERT, well under SQLite's limit of bound parameters


def record_versions(model, instances, comment=REFRESH_COMMENT, using=None):
    """One revision per instance, with `comment` and no user, in two statements a batch."""
    using = alias_for_write(model, using=using)
    for start in range(0, len(instances), BATCH):
        _record_batch(model, instances[start : start + BATCH], comment, using)


def _record_batch(model, instances, comment, using):
    if not instances:
        return
    connection = connections[using]
    content_type = ContentType.objects.db_manager(using).get_for_model(model)
    now = Revision._meta.get_field("date_created").get_db_prep_save(timezone.now(), connection)
    # Plain multi-row INSERTs: building 100 model objects a page for bulk_create cost more
    # than the rest of a refresh. The columns are django-reversion's, stable since 2.0.
    revision_ids = _insert(connection, Revision, ["date_created", "comment"], [(now, comment)] * len(instances))
    rows = [
        (str(instance.pk), content_type.pk, using, "json", serialize(instance), str(instance)[:191], revision_id)
        for instance, revision_id in zip(instances, revision_ids, strict=True)
    ]
    columns = ["object_id", "content_type_id", "db", "format", "serialized_data", "object_repr", "revision_id"]
    _insert(connection, Version, columns, rows)


def _insert(connection, model, columns, rows):
    """INSERT rows (tuples of DB values) into the model's table; returns the new ids in order."""
    qn = connection.ops.quote_name
    types = column_types(connection, [model._meta.get_field(column) for column in columns])
    source, params = rows_source(connection, types, rows)
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"{source} RETURNING {qn(model._meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def serialize(instance):
    """The instance in Django's JSON serialization format, as django-reversion stores it.

    Equivalent to `serializers.serialize("json", [instance])` for models without
    many-to-many fields, at a fraction of the cost, which matters for a page of 50.
    """
    meta = instance._meta
    fields = {
        field.name: field.value_from_object(instance)
        for field in meta.local_concrete_fields
        if not field.primary_key
    }
    return json.dumps([{"model": meta.label_lower, "pk": instance.pk, "fields": fields}], cls=DjangoJSONEncoder)
