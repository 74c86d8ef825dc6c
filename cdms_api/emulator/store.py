"""The emulator's record store: one SQLite table per entity, shared by all server threads.

One connection guarded by one re-entrant lock: reads are a few milliseconds each, and writes
(read-modify-write of one record) are serialised, so concurrent updates are never lost. The
in-process API (`insert`, `update`, `get`, `delete`, `count`) takes and returns wire JSON, like
the HTTP interface, but bypasses it (tests use it to arrange records "made by other CRM users").
"""

import functools
import sqlite3
import threading
import uuid
from datetime import datetime

from cdms_api import crm_codes

from . import edmx
from . import schema as s
from . import seed as demo
from .ddl import create_sql
from .errors import CRMError, bad_request, not_found
from .records import lookup_names, render
from .values import DATE_RE, datetime_ms, fold, now_ms, parse_guid, to_columns

DEFAULT_ROOT = "http://127.0.0.1/XRMServices/2011/OrganizationData.svc"
# The one system user who owns, creates and modifies every record the emulator makes; a record
# in SystemUserSet when that entity is served, as a real CRM's SYSTEM user is.
SYSTEM_USER = {"Id": "8a0f3a4c-6d7e-4c1b-9f0e-2b5d1c3a7e90", "LogicalName": "systemuser", "Name": "CRM Admin"}
# What a create leaves out gets these, on every entity that has the attribute (custom entities
# name their state attributes in lower case).
DEFAULTS = {"statecode": {"Value": 0}, "statuscode": {"Value": 1}, "ownerid": SYSTEM_USER}
# Read-only lookups the CRM stamps on every create (and ModifiedBy on every change).
STAMPED_BY = ("CreatedBy", "ModifiedBy")


@functools.cache
def shipped_schema():
    """The shipped declarations (parsed once per process)."""
    return edmx.load()


def entity_of(name, schema=None):
    """The schema Entity called `name` ("Account"); a 404 if unknown."""
    schema = schema or shipped_schema()
    if name not in schema.entities:
        raise not_found(f"Entity '{name}' does not exist.")
    return schema.entities[name]


def defaults(ent):
    """The values a create of `ent` starts from."""
    return {a.name: DEFAULTS[a.name.lower()] for a in ent.attributes if a.name.lower() in DEFAULTS}


def _ms(value):
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return datetime_ms(value)
    return int(DATE_RE.match(value).group(1)) // 1000 * 1000


PARENTAL, REFERENTIAL = "parental", "referential"


class Store:
    """SQLite-backed records of every entity in the schema."""

    def __init__(self, path=None, cascade=PARENTAL, clock_offset=0.0, version_number="string", schema=None):
        if cascade not in (PARENTAL, REFERENTIAL):
            raise ValueError(f"cascade must be {PARENTAL!r} or {REFERENTIAL!r}, not {cascade!r}")
        self.cascade = cascade
        self.schema = schema or shipped_schema()
        self.version_number = version_number
        # The CRM server's clock against this machine's, in seconds: it stamps CreatedOn and
        # ModifiedOn and the answers' Date header (a real CRM's clock is often tens of seconds off).
        self.clock_offset = clock_offset
        self.lock = threading.RLock()
        self.path = path
        self.db = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        if path:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA cache_size=-65536")
        for entity in self.schema:
            for statement in create_sql(entity):
                self.db.execute(statement)
        self.service_root = DEFAULT_ROOT
        self._version = self._max_version()
        self._add_system_user()

    def _max_version(self):
        versioned = [e for e in self.schema if e.attribute("VersionNumber")]
        tables = [f'SELECT MAX("VersionNumber") FROM "{e.name}"' for e in versioned]
        return max((self.db.execute(sql).fetchone()[0] or 0 for sql in tables), default=0)

    def _add_system_user(self):
        users = self.schema.by_logical.get("systemuser")
        if users is None or self.row(users, SYSTEM_USER["Id"]) is not None:
            return
        first, last = SYSTEM_USER["Name"].split()
        attrs = {users.key: SYSTEM_USER["Id"], "FirstName": first, "LastName": last}
        self.insert(users.name, {k: v for k, v in attrs.items() if users.attribute(k)}, created_on=0)

    def entity(self, name):
        """The Entity called `name` ("Account"); a 404 if this store does not serve it."""
        return entity_of(name, self.schema)

    def next_version(self):
        """A fresh, store-wide increasing VersionNumber."""
        with self.lock:
            self._version += 1
            return self._version

    def checkpoint(self):
        """Fold the write-ahead log into the database file (after a bulk load)."""
        if self.path:
            with self.lock:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self):
        """Close the database connection."""
        with self.lock:
            self.db.close()

    def now_ms(self):
        """The CRM's clock: now in whole-second UTC milliseconds, shifted by `clock_offset`."""
        return now_ms() + round(self.clock_offset) * 1000

    # -- in-process API ---------------------------------------------------------------------
    def insert(self, entity, attrs, created_on=None, modified_on=None):
        """Create a record from wire JSON `attrs`; returns the full wire record."""
        ent = self.entity(entity)
        with self.lock:
            key = self._new_key(ent, attrs)
            values = self.prepare(ent, {**defaults(ent), **attrs})
            values.update(self._stamped_by(ent, STAMPED_BY))
            created = _ms(created_on) or self.now_ms()
            values.update({ent.key: key, "CreatedOn": created, "ModifiedOn": _ms(modified_on) or created})
            values["VersionNumber"] = self.next_version()
            self._insert_row(ent, values)
            return self.get(entity, key)

    def update(self, entity, key, attrs, modified_on=None):
        """Change exactly the attributes in `attrs`; bumps VersionNumber; returns the full record."""
        ent = self.entity(entity)
        with self.lock:
            row = self.row(ent, key)
            if row is None:
                raise not_found(f"{ent.logical_name} With Id = {key} Does Not Exist")
            values = self.prepare(ent, attrs, current=row)
            values.update(ModifiedOn=_ms(modified_on) or self.now_ms(), VersionNumber=self.next_version())
            sets = ", ".join(f'"{c}" = ?' for c in values)
            self.db.execute(f'UPDATE "{ent.name}" SET {sets} WHERE "{ent.key}" = ?', [*values.values(), row[0]])
            return self.get(entity, row[0])

    def replace(self, entity, key, attrs):
        """PUT semantics: every writable attribute not in `attrs` goes back to its default."""
        ent = self.entity(entity)
        writable = [a.name for a in ent.attributes if not (a.system or a.read_only)]
        full = {name: defaults(ent).get(name) for name in writable}
        full.update(attrs)
        return self.update(entity, key, full)

    def get(self, entity, key):
        """The full wire record, or None."""
        ent = self.entity(entity)
        with self.lock:
            row = self.row(ent, key)
            return None if row is None else self.render(ent, [row])[0]

    def delete(self, entity, key):
        """Delete a record and, as CRM 2011 does, its parental children (a 404 if it does not exist).

        Other lookups pointing at it are cleared, as an update of the record holding them
        (its ModifiedOn and VersionNumber move, so a change follower sees it).
        """
        ent = self.entity(entity)
        with self.lock:
            row = self.row(ent, key)
            if row is None:
                raise not_found(f"{ent.logical_name} With Id = {key} Does Not Exist")
            self.db.execute("BEGIN")
            try:
                self._delete_tree(ent, row[0])
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def count(self, entity):
        """How many records `entity` has."""
        ent = self.entity(entity)
        with self.lock:
            return self.db.execute(f'SELECT COUNT(*) FROM "{ent.name}"').fetchone()[0]

    def reset(self):
        """Delete every record."""
        with self.lock:
            for ent in self.schema:
                self.db.execute(f'DELETE FROM "{ent.name}"')
            self._add_system_user()

    def seed_demo(self, n, seed=0, contacts_per_account=3, progress=None):
        """Add `n` demo UK organisations and about `contacts_per_account * n` contacts (see `seed`)."""
        demo.seed_demo(self, n, seed=seed, contacts_per_account=contacts_per_account, progress=progress)

    # -- helpers shared with the HTTP layer ---------------------------------------------------
    def row(self, ent, key):
        """The stored row of one record, or None (a 400 for a malformed key)."""
        key = parse_guid(key, "key")
        return self.db.execute(f'SELECT * FROM "{ent.name}" WHERE "{ent.key}" = ?', [key]).fetchone()

    def render(self, ent, rows, select=None):
        """Wire records of stored rows, with lookup names resolved in one query per target."""
        names = lookup_names(self.schema, self.db, [ent], rows)
        return [render(self.service_root, ent, row, names, select, self.version_number) for row in rows]

    def select(self, sql, params=()):
        """Rows of a read query, under the store lock."""
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    def prepare(self, ent, attrs, current=None):
        """Wire JSON attributes -> {column: value}; a 400 naming any unknown or ill-typed attribute."""
        values = {}
        for name, value in attrs.items():
            attr = ent.attribute(name)
            if name == "__metadata":
                continue
            if attr is None:
                raise bad_request(f"The property '{name}' does not exist on type '{s.TYPE_PREFIX}{ent.name}'.")
            if attr.system or attr.read_only:
                continue
            values.update(to_columns(attr, value))
            base = ent.attribute(name + "_Base")
            if attr.type == s.MONEY and base is not None:
                values[base.column] = values[attr.column]  # one currency: the base amount is the amount
        self._check_lookups(ent, values)
        if ent.attribute("FullName") and ({"FirstName", "LastName"} & set(values)):
            values.update(self._full_name(values, current))
        return values

    def _full_name(self, values, current):
        def part(name):
            return values[name] if name in values else (current[name] if current else None)

        full = " ".join(p for p in (part("FirstName"), part("LastName")) if p) or None
        return {"FullName": full, "FullName__n": fold(full)}

    @staticmethod
    def _stamped_by(ent, names):
        values = {}
        for attr in filter(None, map(ent.attribute, names)):
            values.update(to_columns(attr, SYSTEM_USER))
        return values

    def _check_lookups(self, ent, values):
        for attr in (a for a in ent.attributes if a.type == s.LOOKUP):
            target = self.schema.by_logical.get(values.get(attr.name + "__t"))
            if target and values.get(attr.column) and self.row(target, values[attr.column]) is None:
                raise bad_request(f"{target.logical_name} With Id = {values[attr.column]} Does Not Exist")

    def _new_key(self, ent, attrs):
        key = attrs.get(ent.key)
        return parse_guid(key, ent.key) if key else str(uuid.uuid4())

    def _insert_row(self, ent, values):
        cols = ", ".join(f'"{c}"' for c in values)
        marks = ", ".join("?" * len(values))
        try:
            self.db.execute(f'INSERT INTO "{ent.name}" ({cols}) VALUES ({marks})', list(values.values()))
        except sqlite3.IntegrityError:
            raise CRMError(500, crm_codes.DUPLICATE_KEY_MESSAGE, crm_codes.DUPLICATE_KEY)

    def _delete_tree(self, ent, key):
        self.db.execute(f'DELETE FROM "{ent.name}" WHERE "{ent.key}" = ?', [key])
        for other, attr in self.schema.lookups_to(ent):
            children = self.db.execute(
                f'SELECT "{other.key}" FROM "{other.name}" WHERE "{attr.column}" = ? AND "{attr.name}__t" = ?',
                [key, ent.logical_name],
            ).fetchall()
            if self.cascade == PARENTAL and ent.logical_name in attr.parental:
                for (child,) in children:
                    self._delete_tree(other, child)
            else:
                stamp = self.now_ms()
                for (child,) in children:
                    self.db.execute(
                        f'UPDATE "{other.name}" SET "{attr.column}" = NULL, "{attr.name}__t" = NULL, '
                        f'"ModifiedOn" = ?, "VersionNumber" = ? WHERE "{other.key}" = ?',
                        [stamp, self.next_version(), child],
                    )
