"""Removing local rows whose CRM records are gone, with what the CRM removed alongside them.

A row is removed only on proof (a by-key request, or a complete key sweep, that answered
without its key). Deleting a record in CRM 2011 also deletes the records that hang from it
through a parental relationship (an Account's Contacts, on `ParentCustomerId`), so the
local rows of those children go too; a child that exists only locally (saved with
`skip_cdms`) is not the CRM's to delete and keeps its row, unlinked.
"""

import logging

from ..cdms_migrator import registered_migrators
from ..instruments import rows_synced

log = logging.getLogger("migrator.mirror.removal")


def remove_gone(model, keys, using="default"):
    """Delete the local rows of `model` with these CRM keys, and their parental children."""
    keys = set(keys)
    if not keys:
        return 0
    rows = model._base_manager.db_manager(using).filter(cdms_pk__in=keys)
    pks = list(rows.values_list("pk", flat=True))
    if not pks:
        return 0
    removed = _remove_children(model, pks, using)
    count, _ = model._base_manager.db_manager(using).filter(pk__in=pks).delete()
    rows_synced(model, removed=count)
    log.info("%s: %d rows were deleted in the CRM; removed them locally.", model.__name__, count)
    return removed + count


def _remove_children(model, parent_pks, using):
    removed = 0
    for migrator in registered_migrators():
        child = migrator.model_class
        for name in migrator.parental:
            if child._meta.get_field(name).related_model is not model:
                continue
            children = child._base_manager.db_manager(using).filter(**{f"{name}__in": parent_pks})
            keys = set(children.exclude(cdms_pk=None).values_list("cdms_pk", flat=True))
            removed += remove_gone(child, keys, using)
    return removed


def parental_children(model):
    """(child model, lookup field name) pairs whose records the CRM deletes with a `model` record."""
    return [
        (m.model_class, name)
        for m in registered_migrators()
        for name in m.parental
        if m.model_class._meta.get_field(name).related_model is model
    ]
