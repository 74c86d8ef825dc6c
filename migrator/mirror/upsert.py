"""A monotonic bulk upsert: one `INSERT ... ON CONFLICT (cdms_pk) DO UPDATE ... WHERE` statement.

The WHERE clause lets a row be replaced only by a newer CRM version (a later `modified`,
or the same second with a higher `cdms_version`), so processes refreshing the same rows
in any order converge, and the unique `cdms_pk` keeps one row per CRM record. Where the CRM
sends no version, a row of the same second is replaced (reconcile sends it only when its values
changed): two processes holding different answers of one second may then leave the older one,
which the next read of the row finds different and refreshes.
Works on SQLite (3.35+) and PostgreSQL, both of which support ON CONFLICT and RETURNING.

The rows go as one typed array per column on PostgreSQL (`rows_sql`). Rows are written in
`cdms_pk` order: PostgreSQL locks the conflicting rows of a multi-row
INSERT in the order of its VALUES, so two processes upserting the same rows in different
orders would otherwise deadlock. Every writer of the sync layer locks in this order.
"""

from django.db import connections

from .rows_sql import column_types, rows_source

BATCH_ROWS = 200
# Field types whose plain Python values (str, int, bool, None) the database takes as they are.
# Django's per-value conversion (get_db_prep_save) was a third of a page's CPU; it is kept
# for every other value (datetimes, which SQLite stores as text, above all).
PLAIN_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "SmallIntegerField",
    "TextField",
}
PLAIN_VALUES = (str, int, bool, type(None))


def upsert(model, rows, update_fields, using):
    """Insert or (if newer) update `rows` (dicts of field name -> value); returns {cdms_pk: pk}."""
    rows = sorted(rows, key=lambda row: row["cdms_pk"])
    written = {}
    for start in range(0, len(rows), BATCH_ROWS):
        written.update(_upsert_batch(model, rows[start : start + BATCH_ROWS], update_fields, using))
    return written


def _columns(model):
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _upsert_batch(model, rows, update_fields, using):
    if not rows:
        return {}
    connection = connections[using]
    qn = connection.ops.quote_name
    fields = _columns(model)
    table = qn(model._meta.db_table)
    plain = [field.get_internal_type() in PLAIN_TYPES for field in fields]
    values = []
    for row in rows:
        line = []
        for field, is_plain in zip(fields, plain, strict=True):
            value = row[field.name] if field.name in row else field.get_default()
            if not (is_plain and isinstance(value, PLAIN_VALUES)):
                value = field.get_db_prep_save(value, connection)
            line.append(value)
        values.append(line)
    source, params = rows_source(connection, column_types(connection, fields), values)
    updates = ", ".join(f"{qn(f.column)} = excluded.{qn(f.column)}" for f in fields if f.name in update_fields)
    modified, version = qn("modified"), qn("cdms_version")
    # Within one second only a version orders two states; without one (a CRM that sends it
    # null) the caller has already compared the values and sends only rows that changed.
    newer = (
        f"{table}.{modified} IS NULL OR excluded.{modified} > {table}.{modified} OR "
        f"(excluded.{modified} = {table}.{modified} AND "
        f"(excluded.{version} IS NULL OR {table}.{version} IS NULL OR excluded.{version} > {table}.{version}))"
    )
    sql = (
        f"INSERT INTO {table} ({', '.join(qn(f.column) for f in fields)}) "
        f"{source} "
        f"ON CONFLICT ({qn('cdms_pk')}) DO UPDATE SET {updates} WHERE {newer} "
        f"RETURNING {qn(model._meta.pk.column)}, {qn('cdms_pk')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {cdms_pk: pk for pk, cdms_pk in cursor.fetchall()}
