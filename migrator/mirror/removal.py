"""Removing local rows whose CRM records are gone, with what the CRM removed alongside them.

A row is removed only on proof (a by-key request, or a complete key sweep, that answered
without its key), or by the writer inside the transaction of the CRM delete it sends.
Deleting a record in CRM 2011 also deletes the records that hang from it through a parental
relationship (an Account's Contacts, on `ParentCustomerId`), so the local rows of those
children go too; a child that exists only locally (saved with `skip_cdms`) is not the CRM's
to delete and keeps its row, unlinked. Rows are deleted, never rewritten, so their
django-reversion history stays (a deleted contact can be recovered from it).
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
    removed = sum(remove_children(model, pks, using).values())
    count, _ = model._base_manager.db_manager(using).filter(pk__in=pks).delete()
    rows_synced(model, removed=count)
    log.info("%s: %d rows were deleted in the CRM; removed them locally.", model.__name__, count)
    return removed + count


def remove_children(model, parent_pks, using, known=None):
    """Delete the local rows of the CRM's parental children of these `model` rows (the parents stay).

    `known` maps a child model to the CRM keys the CRM deletes with these parents, when they
    were read from the CRM: exactly those rows go, wherever the local mirror links them. Without
    it, every local child linked to the parents that has a CRM key goes. Returns removed
    rows by model label.
    """
    removed = {}
    for child, name in parental_children(model):
        if known is not None and child in known:
            keys = set(known[child])
        else:
            children = child._base_manager.db_manager(using).filter(**{f"{name}__in": parent_pks})
            keys = set(children.exclude(cdms_pk=None).values_list("cdms_pk", flat=True))
        count = remove_gone(child, keys, using)
        if count:
            removed[child._meta.label] = removed.get(child._meta.label, 0) + count
    return removed


def parental_children(model):
    """(child model, lookup field name) pairs whose records the CRM deletes with a `model` record."""
    return [
        (m.model_class, name)
        for m in registered_migrators()
        for name in m.parental
        if m.model_class._meta.get_field(name).related_model is model
    ]
