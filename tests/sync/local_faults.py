"""Local faults the database itself makes, on SQLite and PostgreSQL: a trigger that refuses
a write, and a raw table whose deferred foreign key refers to a row."""

import contextlib

from django.db import DatabaseError, connection, connections


@contextlib.contextmanager
def refused(table, when="INSERT", condition=None):
    """Make the database refuse `when` (INSERT, UPDATE) on `table` (where `condition`, on NEW/OLD)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_write() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'refused by a trigger'; END $$ LANGUAGE plpgsql"
            )
            where = f"WHEN ({condition})" if condition else ""
            cursor.execute(
                f"CREATE TRIGGER refuse_write BEFORE {when} ON {table} FOR EACH ROW {where} "
                "EXECUTE FUNCTION refuse_write()"
            )
        else:
            where = f"WHEN {condition}" if condition else ""
            cursor.execute(
                f"CREATE TRIGGER refuse_write BEFORE {when} ON {table} {where} "
                "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
            )
    try:
        yield
    finally:
        allow(table)


def allow(table):
    """Drop the trigger of `refused` (idempotent)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS refuse_write() CASCADE")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS refuse_write")


@contextlib.contextmanager
def referred_to(table, pk, primary_key=True):
    """A raw table (unknown to Django) holding a deferred foreign key to row `pk` of `table`."""
    serial = "serial" if connection.vendor == "postgresql" else "integer"
    key = f"id {serial} PRIMARY KEY, " if primary_key else ""
    with connection.cursor() as cursor:
        reference = f"target_id integer REFERENCES {table}(id) DEFERRABLE INITIALLY DEFERRED"
        cursor.execute(f"CREATE TABLE raw_reference ({key}{reference})")
        cursor.execute("INSERT INTO raw_reference (target_id) VALUES (%s)", [pk])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE raw_reference")


@contextlib.contextmanager
def failing_commit(times=1):
    """The next `times` commits of the default database fail, as a commit the database refuses does."""
    wrapper = connections["default"]
    real = wrapper.commit
    left = [times]

    def commit():
        if left[0] > 0:
            left[0] -= 1
            raise DatabaseError("the commit failed")
        return real()

    wrapper.commit = commit
    try:
        yield
    finally:
        del wrapper.commit
