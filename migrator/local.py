"""Writing the local database alone: the one way the sync layer bypasses its own CRM path.

The writer stores what the CRM answered, compensation and bulk jobs touch rows the CRM has
already seen: all of them use these helpers, which never call the CRM, and all of them name
the database alias they write to (a model's `objects` would sync, and its `save()` would
write through the CRM again).
"""

from django.db import IntegrityError, connections, models, router, transaction

# A write that meets a row another process removed meanwhile (a foreign key to a parent that
# is gone) is tried again this many times in all, resolving the keys afresh.
WRITE_ATTEMPTS = 3


def alias_for_write(model, instance=None, using=None):
    """The database alias a write of `model` goes to: `using`, or the router's choice."""
    return using or router.db_for_write(model, instance=instance)


def save_locally(instance, using, **kwargs):
    """Save an instance to the local database only (Django's own `Model.save`)."""
    models.Model.save(instance, using=using, **kwargs)


def delete_locally(instance, using, **kwargs):
    """Delete an instance (and what Django cascades) from the local database only."""
    return models.Model.delete(instance, using=using, **kwargs)


def local_rows(model, using):
    """A plain queryset of the model's local rows on `using`, which never calls the CRM."""
    return models.QuerySet(model, using=using)


def check_constraints_now(using):
    """Check foreign keys at each statement for the rest of this transaction (PostgreSQL).

    Django declares them DEFERRABLE INITIALLY DEFERRED, so a parent deleted by another process
    between looking up its id and committing fails the commit, where nothing can retry.
    Checked at the statement, the failure comes inside the savepoint that wrote the row.
    SQLite needs none of this: its writing transactions hold the database from BEGIN.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class _Rehearsed(Exception):
    """Rolls a rehearsal's savepoint back."""


def rehearse(write, using):
    """Run `write()` in a savepoint that is then rolled back: its errors surface now, its rows do not stay."""
    try:
        with transaction.atomic(using=using):
            write()
            raise _Rehearsed
    except _Rehearsed:
        pass


def check_deferred(using, model, deleting=False):
    """Check now the deferred foreign keys a write of `model` may break; IntegrityError naming the row if one is.

    Django declares foreign keys DEFERRABLE INITIALLY DEFERRED on both backends, so a write the
    database will refuse fails only at the commit, after the CRM was asked. Checked here, after
    the local statements and before the CRM call, it fails while there is nothing to undo.
    PostgreSQL checks every pending constraint (`SET CONSTRAINTS ALL IMMEDIATE`, then back to
    deferred). SQLite checks tables (`PRAGMA foreign_key_check`): the model's own for a save,
    for a delete every table whose foreign keys refer to it.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        connection.check_constraints()
        return
    table = model._meta.db_table
    _check_sqlite(connection, _referring_tables(connection, table) if deleting else [table])


def _check_sqlite(connection, tables):
    """IntegrityError naming the first row of `tables` whose foreign key has no target (SQLite).

    As Django's `check_constraints`, but a table without a primary key (a raw table) names its
    row by rowid, where Django's fails with an AttributeError.
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for checked in tables:
            for table, rowid, target, index in cursor.execute(f"PRAGMA foreign_key_check({quote(checked)})"):
                column, target_column = cursor.execute(f"PRAGMA foreign_key_list({quote(table)})").fetchall()[
                    index
                ][3:5]
                key = connection.introspection.get_primary_key_column(cursor, table) or "rowid"
                row = cursor.execute(
                    f"SELECT {quote(key)}, {quote(column)} FROM {quote(table)} WHERE rowid = %s", [rowid]
                )
                key_value, bad = row.fetchone()
                named = "rowid" if key == "rowid" else "primary key"
                raise IntegrityError(
                    f"The row in table '{table}' with {named} '{key_value}' "
                    f"has an invalid foreign key: {table}.{column} contains a value '{bad}' that does not have a "
                    f"corresponding value in {target}.{target_column}."
                )


def _referring_tables(connection, table):
    # Every table, Django's or not: a raw table's deferred key would fail the commit just the same.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) p "
            "WHERE m.type = 'table' AND p.\"table\" = %s",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def retrying_vanished_parents(write, using):
    """Run `write()` in a savepoint, again (up to WRITE_ATTEMPTS) if a parent vanished meanwhile."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with transaction.atomic(using=using):
                check_constraints_now(using)
                return write()
        except IntegrityError:
            if attempt == WRITE_ATTEMPTS:
                raise
