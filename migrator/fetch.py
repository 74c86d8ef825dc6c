"""Fetching CRM records for a remote predicate: filters fitted to the URL limit, pages followed, keys batched.

IIS in front of CRM 2011 refuses a query string over 2,048 bytes (after percent-encoding, so a
non-ASCII character costs up to nine). `fit` turns a predicate into parts whose union selects
at least what it selects, each of which fits in one request: a key set or a long `or` is split
into several requests whose results are united; a part of an `and` too long to send is relaxed
to true, which is sound because a where-tree with NOT pushed down is monotone in its leaves.

Every read of records asks `$select` for what the sync layer reads (`selection`): the key, the
system attributes and the mapped ones, and the same of each parent it expands (`nav/Attr`). A
real CRM record has hundreds of attributes and navigation links, most of which nothing maps.
"""

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

from cdms_api import odata

from .cdms_migrator import SYSTEM_FIELDS, get_migrator
from .conf import cdms_settings
from .connection import get_client
from .predicate import RELAXED, Const, Junction, KeySet, conjoin

# CRM 2011 answers collections 50 records a page, whatever the request asks.
KEYS_PER_PAGE = 50
# Most bytes a `$select` may take: about three quarters of IIS's 2,048-byte query string, so a
# filter keeps room (a longer filter is split into several requests or relaxed, see `fit`). The
# 2016 domain's contacts with their organisations expanded take 1,553 bytes; a wider one (a
# mapping of a hundred attributes) reads whole records.
SELECT_BYTES = 1600


def selection(migrator, expand=()):
    """The `$select` of a read of `migrator`'s records expanding `expand` (None: whole records)."""
    if not cdms_settings.CDMS_SELECT:
        return None
    names = list(migrator.select)
    for name, navigation in migrator.navigation.items():
        if navigation in expand:
            parent = get_migrator(migrator.model_class._meta.get_field(name).related_model)
            names += [f"{navigation}/{attribute}" for attribute in parent.select]
    return names if odata.encoded_length(",".join(names)) <= SELECT_BYTES else None


def room(migrator, *, expand=None, select=(), **options):
    """The encoded length a `$filter` may have in a list request with these other options."""
    select = selection(migrator, expand or ()) if select == () else select
    return get_client().filter_room(migrator.service, select=select, expand=expand, **options)


def size(predicate):
    """The most bytes a predicate's `$filter` text takes in a query string."""
    text = predicate.render()
    return 0 if text is None else odata.encoded_length(text)


def fit(predicate, limit):
    """Predicates, each at most `limit` bytes encoded, whose union selects what `predicate` selects."""
    if size(predicate) <= limit:
        return [predicate]
    if isinstance(predicate, KeySet):
        return _split_keys(predicate, limit)
    if isinstance(predicate, Junction) and predicate.connector == "or":
        return _pack([part for child in predicate.children for part in fit(child, limit)], limit)
    if isinstance(predicate, Junction):
        widest = max(predicate.children, key=size)
        others = conjoin([child for child in predicate.children if child is not widest], "and")
        rest = size(others) + len(" and ()()")
        if rest <= limit // 2:
            return [conjoin([others, part], "and") for part in fit(widest, limit - rest)]
        return fit(conjoin([others, RELAXED], "and"), limit)  # drop the widest part: still a superset
    return [RELAXED]  # one comparison too long to send: fetching everything is always sound


def _split_keys(predicate, limit):
    keys = sorted(predicate.keys)
    per_key = size(KeySet(predicate.path, frozenset(keys[:2]))) / 2
    per_part = max(1, int(limit // per_key))
    while True:
        parts = [KeySet(predicate.path, frozenset(keys[i : i + per_part])) for i in range(0, len(keys), per_part)]
        if per_part == 1 or all(size(part) <= limit for part in parts):
            return parts
        per_part -= 1


def _pack(parts, limit):
    if any(isinstance(part, Const) and part.value for part in parts):
        return [RELAXED]
    packed, current = [], []
    for part in parts:
        if current and size(conjoin([*current, part], "or")) > limit:
            packed.append(conjoin(current, "or"))
            current = []
        current.append(part)
    packed.append(conjoin(current, "or"))
    return packed


def pages(migrator, predicate, *, orderby=None, top=None, expand=None):
    """Pages of CRM records matching `predicate` (which must fit in one request)."""
    return get_client().list(
        migrator.service,
        filter=predicate.render(),
        orderby=orderby or None,
        top=top,
        expand=expand or None,
        select=selection(migrator, expand or ()),
    )


def key_parts(migrator, keys, select=()):
    """Key sets of the migrator's own keys, as many a request as the URL limit allows, each answered in one page.

    A by-key answer holds at most one record a key and the CRM's pages hold 50, so a part of at
    most 50 keys never has a `__next`: no room is kept for a `$skiptoken`.
    """
    if not keys:
        return []
    parts = fit(KeySet(migrator.key_attribute, frozenset(keys)), room(migrator, select=select, one_page=True))
    return [
        KeySet(part.path, frozenset(chunk))
        for part in parts
        for chunk in _chunks(sorted(part.keys), KEYS_PER_PAGE)
    ]


def _chunks(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def by_keys(migrator, keys):
    """Pages of the CRM records with these keys, as many keys a request as the URL limit allows."""
    for part in key_parts(migrator, keys):
        yield from pages(migrator, part)


def keys_present(migrator, keys):
    """The keys among `keys` the CRM has (lower case), asking only for keys."""
    key, found = migrator.key_attribute, set()
    for part in key_parts(migrator, keys, select=[key]):
        for page in get_client().list(migrator.service, filter=part.render(), select=[key]):
            found.update(record[key].lower() for record in page)
    return found


def stamps(migrator, keys):
    """{key: (ModifiedOn, VersionNumber)} of the keys among `keys` the CRM has, asking only for those.

    Three attributes a record instead of every mapped one, so many more keys fit a request.
    """
    key, modified, version = migrator.key_attribute, SYSTEM_FIELDS["modified"], SYSTEM_FIELDS["cdms_version"]
    select = [key, modified.cdms_name, version.cdms_name]
    found = {}
    for part in key_parts(migrator, keys, select=select):
        for page in get_client().list(migrator.service, filter=part.render(), select=select):
            for record in page:
                stamp = [field.from_cdms(record.get(field.cdms_name)) for field in (modified, version)]
                found[record[key].lower()] = tuple(stamp)
    return found


def record(migrator, key):
    """The CRM record with this key, with the attributes a read asks for."""
    return get_client().get(migrator.service, key, select=selection(migrator))


def window_pages(migrator, window):
    """Pages of the CRM records changed in an import window, in ModifiedOn order (key order within)."""
    orderby = ["ModifiedOn", migrator.key_attribute]
    return get_client().list(migrator.service, filter=window.filter(), orderby=orderby, select=selection(migrator))


_prefetchers = threading.local()


def prefetched(make_pages):
    """The pages of `make_pages()`, fetched one page ahead on a helper thread.

    While the caller reconciles a page, the next one is already on its way, so a long read
    waits for the CRM and the database at the same time instead of in turn. The helper
    thread belongs to the calling thread and keeps its own CRM client (and connection).
    """
    worker = getattr(_prefetchers, "worker", None)
    if worker is None:
        worker = _prefetchers.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdms-prefetch")
    context = contextvars.copy_context()  # the caller's request id goes with the requests
    pages_iter = worker.submit(context.run, lambda: iter(make_pages())).result()
    pending = worker.submit(context.run, next, pages_iter, None)
    while True:
        page = pending.result()
        if page is None:
            return
        pending = worker.submit(context.run, next, pages_iter, None)
        yield page
