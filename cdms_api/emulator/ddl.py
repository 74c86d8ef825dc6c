"""The store's tables: one per entity, a column (or a folded shadow column) per attribute.

Text attributes are indexed on their folded shadow column (case- and accent-insensitive, as
SQL Server's Latin1_General_CI_AI orders them), with the key as a tie-breaker, so ordered pages
and keyset paging use an index.
"""

from . import schema as s
from .values import columns


def create_sql(entity):
    """CREATE statements of the table of `entity` and its indexes."""
    cols = [f'"{c}" {t}' for a in entity.attributes for c, t in columns(a)]
    cols[0] += " PRIMARY KEY"
    return [f'CREATE TABLE IF NOT EXISTS "{entity.name}" ({", ".join(cols)})', *index_sql(entity)]


def index_sql(entity, drop=False):
    """CREATE (or DROP) statements of the (sort column, key) indexes of `entity`."""
    statements = []
    for attr in (a for a in entity.attributes if a.indexed):
        col = attr.shadow if attr.type in s.TEXT_TYPES else attr.column
        name = f"ix_{entity.name}_{col}"
        if drop:
            statements.append(f'DROP INDEX IF EXISTS "{name}"')
        else:
            statements.append(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{entity.name}" ("{col}", "{entity.key}")')
    return statements
