"""The mirror: what keeps the local rows equal to the CRM, and the state that says how fresh they are.

`reconcile` applies a page of CRM records in a constant number of statements (`upsert`, the
monotonic bulk upsert; `revisions`, their `CDMS refresh` versions); `removal` removes rows
whose CRM records are gone, with their parental children. The change follower (`follower`)
and key sweeps (`sweep`) run under leases (`leases`), from `cdms_follow` or from Celery
(`tasks`); `cdms_import` copies whole entities (`importer`, `import_windows`, `windows`,
`progress`). `state` holds the models of this bookkeeping: watermarks, import cursors and sweep
partitions; `vouching` records when a CRM answer last showed each record, so that a bounded
read checks by key only what the CRM has not shown within its bound. `journal` keeps the write
intents (what a CRM write will do, outside its transaction) and `intents` settles those whose
transaction never committed, for the writer and at the start of each follower round.

May import: the shared top-level modules only. Every other part may import the mirror.
"""
