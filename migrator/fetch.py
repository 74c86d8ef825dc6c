"""Fetching CRM records for a remote predicate: long filters split, pages followed, keys batched.

A filter is kept under `MAX_FILTER_LENGTH` characters so that no URL grows past what an
IIS front end accepts; a long `or` (an `in` list) is split into several requests whose
results are united, which is sound because each part is still a superset of its share.
"""

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

from .connection import get_client
from .predicate import Const, Junction, Term, conjoin

MAX_FILTER_LENGTH = 3600
KEY_BATCH = 50


def split_for_length(predicate, limit=MAX_FILTER_LENGTH):
    """Predicates, each short enough to send, whose union selects what `predicate` selects."""
    text = predicate.render()
    if text is None or len(text) <= limit:
        return [predicate]
    if isinstance(predicate, Junction) and predicate.connector == "or":
        return _split_or(predicate, limit)
    if isinstance(predicate, Junction):
        widest = max(predicate.children, key=lambda child: len(child.render() or ""))
        others = [child for child in predicate.children if child is not widest]
        rest = sum(len(child.render()) + 9 for child in others)
        if isinstance(widest, Junction) and widest.connector == "or" and rest < limit // 2:
            return [conjoin([*others, part], "and") for part in _split_or(widest, limit - rest)]
    return [Const(True, exact=False)]  # fetching everything is always sound


def _split_or(predicate, limit):
    parts, current, length = [], [], 0
    for child in predicate.children:
        size = len(child.render()) + 6
        if current and length + size > limit:
            parts.append(conjoin(current, "or"))
            current, length = [], 0
        current.append(child)
        length += size
    parts.append(conjoin(current, "or"))
    return parts


def pages(migrator, predicate, *, orderby=None, top=None, expand=None):
    """Pages of CRM records matching `predicate` (which must fit in one request)."""
    text = predicate.render()
    return get_client().list(
        migrator.service, filter=text, orderby=orderby or None, top=top, expand=expand or None
    )


def by_keys(migrator, keys):
    """Pages of the CRM records with these keys, `KEY_BATCH` keys a request."""
    keys = sorted(keys)
    for start in range(0, len(keys), KEY_BATCH):
        batch = keys[start : start + KEY_BATCH]
        terms = [Term(f"{migrator.key_attribute} eq guid'{key}'", exact=True) for key in batch]
        yield from pages(migrator, conjoin(terms, "or"))


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
