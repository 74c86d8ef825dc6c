"""What a CRM delete takes with it, read before the DELETE is sent, so both sides lose the same rows.

CRM 2011 deletes an Account's Contacts with it (a parental relationship, see
`mirror.removal`). Before a synced delete, the writer reads from the CRM the records the delete
will take (one request per 50 children; none for a model that has no parental children):

- the local delete removes exactly their rows, through `mirror.removal`, in the same
  transaction (a contact the CRM holds under another account, though the mirror still links
  it here, is checked by key and refreshed instead);
- should the local step fail after the CRM deleted, the compensation re-creates them under
  their keys, with their mapped values, after their parent.

Another CRM user may add a child between the read and the DELETE; its local row, if any, stays
until a read or a sweep proves it gone.
"""

import logging

from .. import fetch
from ..cdms_migrator import get_migrator
from ..mirror.reconcile import reconcile_page
from ..mirror.removal import parental_children, remove_children, remove_gone
from ..predicate import KeySet

log = logging.getLogger("migrator.write.cascade")


def read_cascade(model, keys):
    """[(child model, [CRM records])] a CRM delete of these `model` keys takes, parents before children."""
    taken = []
    if not keys:
        return taken
    for child, name in parental_children(model):
        migrator = get_migrator(child)
        path = f"{migrator.fields[name].cdms_name}/Id"
        records = [
            record
            for part in fetch.fit(KeySet(path, frozenset(keys)), fetch.room(migrator))
            for page in fetch.pages(migrator, part)
            for record in page
        ]
        if records:
            taken.append((child, records))
            taken.extend(read_cascade(child, {record_key(child, r) for r in records}))
    return taken


def only_under(taken, keys):
    """The part of `taken` that hangs from the records with these keys (the deletes that landed)."""
    kept = []
    keys = set(keys)
    for child, records in taken:
        records = [record for record in records if parental_keys(child, record) & keys]
        keys |= {record_key(child, record) for record in records}
        if records:
            kept.append((child, records))
    return kept


def parental_keys(model, record):
    """The keys of the parents a CRM record of `model` hangs from through parental lookups."""
    migrator = get_migrator(model)
    fields = [migrator.fields[name] for name in migrator.parental]
    return {field.from_cdms(record.get(field.cdms_name)) for field in fields}


def record_key(model, record):
    """The CRM key of a record of `model`, lower case as stored locally."""
    return record[get_migrator(model).key_attribute].lower()


def refresh_stale_links(model, parent_pks, taken, using):
    """Check by key the local children linked to these parents that the CRM no longer holds under them.

    Refreshed where the CRM has them elsewhere, removed where it has none; none of them is
    among what the delete takes. Costs nothing when the mirror is fresh.
    """
    known = _known(taken)
    for child, name in parental_children(model):
        linked = child._base_manager.db_manager(using).filter(**{f"{name}__in": parent_pks}).exclude(cdms_pk=None)
        stale = set(linked.values_list("cdms_pk", flat=True)) - known.get(child, set())
        if stale:
            _verify(child, stale, using)


def remove_cascade(model, parent_pks, taken, using):
    """Remove the local rows of what the CRM delete takes (no CRM request); returns removed rows by model label."""
    return remove_children(model, parent_pks, using, known=_known(taken))


def _known(taken):
    return {child: {record_key(child, r) for r in records} for child, records in taken}


def _verify(model, keys, using):
    found = set()
    for page in fetch.by_keys(get_migrator(model), keys):
        found.update(reconcile_page(model, page, using=using))
    remove_gone(model, keys - found, using)


def with_removed(result, removed):
    """Django's delete() answer (count, per-model counts) with the cascaded rows added."""
    count, per_model = result
    per_model = dict(per_model)
    for label, n in removed.items():
        per_model[label] = per_model.get(label, 0) + n
    return count + sum(removed.values()), per_model


def recreate_body(model, record):
    """The CRM JSON that re-creates a record as it was: its mapped attributes."""
    migrator = get_migrator(model)
    values = migrator.from_cdms(record)
    return migrator.to_cdms({name: values[name] for name in migrator.fields}, strict=False)


def describe(taken):
    """A log's account of what a delete took: `3 Contact (k1, k2, k3)`."""
    return "; ".join(
        f"{len(records)} {get_migrator(child).service} ({', '.join(record_key(child, r) for r in records)})"
        for child, records in taken
    )
