"""The rows of a multi-row INSERT as SQL: one JSON parameter on PostgreSQL, a VALUES list elsewhere.

A page of 50 rows of 13 columns as `VALUES (%s, ...), ...` is 650 parameters, which psycopg
quotes and merges into the statement on the client one by one (Django binds parameters on the
client). Typed arrays (`unnest(%s::integer[], ...)`) are no cheaper there: psycopg escapes every
array element in Python. So on PostgreSQL the rows go as one JSON document, encoded by the
standard library's C encoder and quoted once:
`SELECT * FROM json_to_recordset(%s::json) AS r(c0 integer, c1 varchar(160), ...)`, which keeps
the rows' order. SQLite binds parameters cheaply and keeps VALUES.
"""

import datetime as dt
import json


def rows_source(connection, types, rows):
    """(SQL, params) of `rows` (tuples of database values) for `INSERT INTO t (cols) <SQL>`.

    `types`: the database type of each column (`field.db_type(connection)`).
    """
    if connection.vendor == "postgresql":
        names = [f"c{i}" for i in range(len(types))]
        rows_as_objects = [dict(zip(names, map(_json_value, row), strict=True)) for row in rows]
        document = json.dumps(rows_as_objects, default=str)  # default: Decimal, UUID...
        record = ", ".join(f"{name} {kind}" for name, kind in zip(names, types, strict=True))
        return f"SELECT * FROM json_to_recordset(%s::json) AS r({record})", [document]
    placeholders = "(" + ", ".join(["%s"] * len(types)) + ")"
    return f"VALUES {', '.join([placeholders] * len(rows))}", [value for row in rows for value in row]


def _json_value(value):
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


def column_types(connection, fields):
    """The database types of model fields, for `rows_source`."""
    return [field.db_type(connection) for field in fields]
