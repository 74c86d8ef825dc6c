"""A test-only synced app: models written by `manage.py cdms_inspect` for entities no domain app maps.

`crm_types.edmx` declares `new_widget` (one attribute of every CRM 2011 type: text, memo, whole
and big numbers, decimal, floating point, money and its read-only `_Base`, two options, date and
time, option sets with lower-case `statecode`/`statuscode`, lookups to its own entity, to a
synced entity, to several entities and to one that is not synced) and `new_visit` (an activity,
keyed by `ActivityId`, with `RegardingObjectId`), beside the Account and Contact the domain apps
map. `models.py` and `cdms_migrator.py` are what `cdms_inspect` printed, with option labels
added; the tests prove that such a model reads, writes and follows with no other change.

Installed only by the test settings, and mapped only in the tests that use it (`registry`): the
operations that go over every mapping (follower rounds, imports, sweeps) meet it nowhere else.
Deleted with the CRM-only tests when the CRM is retired.
"""
