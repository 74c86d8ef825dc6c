"""GET: collections (filtered, ordered, paged), single records, navigation and property paths.

The store does the work: one SQL query per page (plus one per expanded navigation property and
one per lookup target for display names), whatever the size of the store.
"""

from urllib.parse import parse_qsl, urlencode

from .errors import not_found
from .filter_parser import parse
from .filter_sql import compile_filter
from .query import check_paging_limit, decode_token, encode_token, keyset_sql, parse_options
from .records import lookup_names, render
from .routing import SERVICE_PATH
from .values import parse_guid

EXPANDED_CAP = 50


def read(store, call, page_size):
    """The `d` payload of a GET on a collection, record, navigation or property path."""
    entity = call.entity
    if call.key is None:
        return read_collection(store, call, entity, page_size)
    row = existing_row(store, entity, call.key)
    if call.prop is None:
        return read_records(store, call, entity, [row])[0]
    nav = entity.navigation(call.prop)
    if nav is not None:
        return read_navigation(store, call, entity, row, nav, page_size)
    attr = entity.attribute(call.prop)
    if attr is None:
        raise not_found(f"Resource not found for the segment '{call.prop}'.")
    return {attr.name: read_records(store, call, entity, [row])[0][attr.name]}


def existing_row(store, entity, key):
    """The stored row of `key`; a 404 if there is none."""
    row = store.row(entity, key)
    if row is None:
        raise not_found(f"{entity.logical_name} With Id = {parse_guid(key)} Does Not Exist")
    return row


def read_navigation(store, call, entity, row, nav, page_size):
    """Related records of one record: a collection, or a single record (404 when empty)."""
    target = store.schema.entities[nav.target]
    if nav.many:
        where = (f'"{nav.attribute}" = ? AND "{nav.attribute}__t" = ?', [row[entity.key], entity.logical_name])
        call.entity = target
        return read_collection(store, call, target, page_size, where)
    related = _single_targets(store, entity, nav, [row]).get(row[entity.key])
    if related is None:
        raise not_found(f"Resource not found for the segment '{nav.name}'.")
    call.entity = target
    return read_records(store, call, target, [related])[0]


def read_collection(store, call, entity, page_size, base=None):
    """One page of a collection: `{"results": [...], "__next": ...}`."""
    opts = parse_options(store.schema, entity, call.query_string)
    where, params = [base[0]] if base else [], list(base[1]) if base else []
    if opts.filter:
        sql, filter_params = compile_filter(entity, parse(opts.filter))
        where.append(sql)
        params.extend(filter_params)
    order = [*opts.orderby, (entity.key, False)]
    returned, offset = 0, 0
    if opts.skiptoken:
        returned, last = decode_token(opts.skiptoken, len(order))
        sql, token_params = keyset_sql(order, last)
        where.append(sql)
        params.extend(token_params)
    elif opts.skip:
        check_paging_limit(opts, page_size)
        offset = opts.skip
    limit = page_size if opts.top is None else max(0, min(page_size, opts.top - returned))
    rows = _page(store, entity, where, params, order, limit + 1, offset) if limit else []
    page = rows[:limit]
    payload = {"results": read_records(store, call, entity, page, opts)}
    total = returned + len(page)
    if len(rows) > limit and page and (opts.top is None or total < opts.top):
        last = [page[-1][column] for column, _ in order]
        payload["__next"] = _next_url(call, encode_token(total, last))
    return payload


def _page(store, entity, where, params, order, limit, offset):
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    ordering = ", ".join(f'"{c}"{" DESC" if desc else ""}' for c, desc in order)
    sql = f'SELECT * FROM "{entity.name}" {clause} ORDER BY {ordering} LIMIT ? OFFSET ?'
    return store.select(sql, [*params, limit, offset])


def _next_url(call, token):
    pairs = [(k, v) for k, v in parse_qsl(call.query_string, keep_blank_values=True) if k != "$skiptoken"]
    query = urlencode([*pairs, ("$skiptoken", token)], safe="$',/()")
    return f"{call.root}{call.path[len(SERVICE_PATH) :]}?{query}"


def read_records(store, call, entity, rows, opts=None):
    """Wire records of `rows` with `$select` and `$expand` applied."""
    opts = opts or parse_options(store.schema, entity, call.query_string)
    with store.lock:
        names = lookup_names(store.schema, store.db, [entity], rows)
        records = [render(call.root, entity, row, names, opts.select, store.version_number) for row in rows]
        for nav_name in opts.expand:
            _expand(store, call, entity, rows, records, entity.navigation(nav_name), opts)
    return records


def _expand(store, call, entity, rows, records, nav, opts):
    target = store.schema.entities[nav.target]
    select = opts.nested_select.get(nav.name)
    if nav.many:
        related = _many_targets(store, entity, nav, rows)
        flat = [r for group in related.values() for r in group]
    else:
        related = _single_targets(store, entity, nav, rows)
        flat = list(related.values())
    names = lookup_names(store.schema, store.db, [target], flat)
    for row, record in zip(rows, records, strict=True):
        value = related.get(row[entity.key])
        if nav.many:
            rendered = [render(call.root, target, r, names, select, store.version_number) for r in value or []]
            value = {"results": rendered}
        elif value is not None:
            value = render(call.root, target, value, names, select, store.version_number)
        record[nav.name] = value


def _many_targets(store, entity, nav, rows):
    target = store.schema.entities[nav.target]
    keys = [row[entity.key] for row in rows]
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    sql = (
        f'SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "{nav.attribute}" '
        f'ORDER BY "{target.key}") AS rn__ FROM "{target.name}" WHERE "{nav.attribute}" IN ({marks}) '
        f'AND "{nav.attribute}__t" = ?) WHERE rn__ <= {EXPANDED_CAP} ORDER BY "{target.key}"'
    )
    grouped = {}
    for related in store.select(sql, [*keys, entity.logical_name]):
        grouped.setdefault(related[nav.attribute], []).append(related)
    return grouped


def _single_targets(store, entity, nav, rows):
    target = store.schema.entities[nav.target]
    refs = {
        row[entity.key]: row[nav.attribute]
        for row in rows
        if row[nav.attribute] is not None and row[nav.attribute + "__t"] == target.logical_name
    }
    if not refs:
        return {}
    ids = sorted(set(refs.values()))
    marks = ",".join("?" * len(ids))
    sql = f'SELECT * FROM "{target.name}" WHERE "{target.key}" IN ({marks})'
    found = {r[target.key]: r for r in store.select(sql, ids)}
    return {key: found[ref] for key, ref in refs.items() if ref in found}
