"""Fetching CRM records for a remote predicate: filters fitted to the URL limit, pages followed, keys batched.

IIS in front of CRM 2011 refuses a query string over 2,048 bytes (after percent-encoding, so a
non-ASCII character costs up to nine). `fit` turns a predicate into parts whose union selects
at least what it selects, each of which fits in one request: a key set or a long `or` is split
into several requests whose results are united; a part of an `and` too long to send is relaxed
to true, which is sound because a where-tree with NOT pushed down is monotone in its leaves.
"""

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

from cdms_api import odata

from .connection import get_client
from .predicate import RELAXED, Const, Junction, KeySet, conjoin


def room(migrator, **options):
    """The encoded length a `$filter` may have in a list request with these other options."""
    return get_client().filter_room(migrator.service, **options)


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
        migrator.service, filter=predicate.render(), orderby=orderby or None, top=top, expand=expand or None
    )


def by_keys(migrator, keys):
    """Pages of the CRM records with these keys, as many keys a request as the URL limit allows."""
    if not keys:
        return
    for part in fit(KeySet(migrator.key_attribute, frozenset(keys)), room(migrator)):
        yield from pages(migrator, part)


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
