"""Reads: everything a synced read does before the database answers.

`queryset` holds the hooks every evaluation passes through (and hands `update`, `delete` and
the bulk methods to `write.bulk`). A strict read (`strict`) syncs what a filter depends on
(`dependencies`), compiles the where-tree (`where`, `leaves`, `domain`, `compiler`) into a
remote predicate, picks what to fetch (`strategies`, `ordering`), fetches it and reconciles it
into the mirror. A bounded read (`bounded`) is answered by the mirror when the follower's
watermarks allow, and verifies the rows it returns by key. `scope` and `middleware` fetch each
distinct read once per unit of work.

May import: the shared top-level modules, `mirror` (to reconcile what it fetched) and
`write.bulk` (the queryset's write methods). Never `ops`.
"""
