"""Writes: the one writer through the CRM, and what it needs to undo and retry a write.

`writer` saves and deletes one instance (the CRM call and the local write succeed together or
not at all); `bulk` runs the same steps per row for `bulk_create`, `bulk_update` and queryset
`update()`/`delete()`; `snapshot` keeps what an instance held when loaded (only changed fields
are sent, and a failed call restores the instance); `cascade` reads what a CRM delete takes
with it (an organisation's contacts), so the local delete removes the same rows and a
compensation can re-create them; `settle` reads a record back when a MERGE's or DELETE's
answer was lost; `signals` pushes a raw save (a reverted version, a fixture) through the writer;
`unit` makes the caller's atomic block one unit with the CRM (its CRM writes undone when it
rolls back).

May import: the shared top-level modules and `mirror` (storing what the CRM answered). Never
`read` or `ops`.
"""
