"""The query options of a read (`$filter $orderby $select $expand $top $skip $skiptoken`).

Paging is keyset-based like CRM's: `$skiptoken` carries how many records were already returned
and the sort values of the last one, so a next page stays right when records are inserted or
deleted between pages. `$skip` is an offset and hits CRM's 5000-record paging limit.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from cdms_api import crm_codes

from . import schema as s
from .errors import CRMError, bad_request

SUPPORTED = ("$filter", "$orderby", "$select", "$expand", "$top", "$skip", "$skiptoken")
PAGING_LIMIT = 5000
MAX_EXPAND = 6


@dataclass
class Options:
    """Parsed query options of one read."""

    filter: str | None = None
    orderby: list = field(default_factory=list)
    select: set | None = None
    nested_select: dict = field(default_factory=dict)
    expand: list = field(default_factory=list)
    top: int | None = None
    skip: int | None = None
    skiptoken: str | None = None


def parse_options(schema, entity, query_string):
    """The Options of a query string; a 400 for anything CRM 2011 does not support."""
    raw = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if not name.startswith("$"):
            continue  # custom query parameters are ignored, as by WCF Data Services
        if name not in SUPPORTED:
            raise bad_request(f"The query option '{name}' is not supported.")
        if name in raw:
            raise bad_request(f"The query option '{name}' is given more than once.")
        raw[name] = value
    opts = Options(filter=raw.get("$filter"), skiptoken=raw.get("$skiptoken"))
    opts.top = _count(raw, "$top")
    opts.skip = _count(raw, "$skip")
    opts.orderby = parse_orderby(entity, raw.get("$orderby"))
    opts.expand = parse_expand(entity, raw.get("$expand"))
    opts.select, opts.nested_select = parse_select(schema, entity, raw.get("$select"))
    return opts


def _count(raw, name):
    if name not in raw:
        return None
    if not raw[name].isdigit():
        raise bad_request(f"The value of {name} must be a non-negative integer.")
    return int(raw[name])


def _names(text):
    return [part.strip() for part in text.split(",")] if text and text.strip() else []


def sort_column(attr):
    """The column that orders `attr` (text through its folded shadow)."""
    return attr.shadow if attr.type in s.TEXT_TYPES else attr.column


def parse_orderby(entity, text):
    """[(column, descending)] of `$orderby`; root attributes only."""
    order = []
    for part in _names(text):
        name, _, direction = part.partition(" ")
        direction = direction.strip().lower()
        attr = entity.attribute(name)
        if attr is None or direction not in ("", "asc", "desc"):
            raise bad_request(f"Cannot order by '{part}': only root attributes of {entity.name} are allowed.")
        order.append((sort_column(attr), direction == "desc"))
    return order


def parse_expand(entity, text):
    """The navigation properties of `$expand` (at most 6, one level deep)."""
    names = _names(text)
    if len(names) > MAX_EXPAND:
        raise bad_request(f"$expand is limited to {MAX_EXPAND} navigation properties.")
    for name in names:
        if entity.navigation(name) is None:
            raise bad_request(f"'{name}' is not a navigation property of {entity.name} (one level only).")
    return names


def parse_select(schema, entity, text):
    """(root names or None for all, {navigation: names}) of `$select`."""
    names = _names(text)
    if not names or "*" in names:
        return None, {}
    root, nested = set(), {}
    for name in names:
        head, _, tail = name.partition("/")
        nav = entity.navigation(head)
        if tail and nav:
            nested.setdefault(head, set()).add(_checked(schema.entities[nav.target], tail))
        elif not tail and (nav or entity.attribute(head)):
            pass
        else:
            raise bad_request(f"'{name}' is not a property of {entity.name}.")
        root.add(head)
    return root, nested


def _checked(entity, name):
    if entity.attribute(name) is None and entity.navigation(name) is None:
        raise bad_request(f"'{name}' is not a property of {entity.name}.")
    return name


def check_paging_limit(opts, page_size):
    """CRM refuses `$skip` offsets that reach past 5000 records."""
    if opts.skip and opts.skip + (opts.top if opts.top is not None else page_size) > PAGING_LIMIT:
        raise CRMError(500, crm_codes.PAGING_LIMIT_MESSAGE, crm_codes.PAGING_LIMIT)


def encode_token(returned, values):
    """An opaque `$skiptoken` for the position after a record with sort `values`."""
    raw = json.dumps([returned, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token, width):
    """(returned, values) of a `$skiptoken`; a 400 if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        returned, values = json.loads(raw)
        if isinstance(returned, int) and isinstance(values, list) and len(values) == width:
            return returned, values
    except (ValueError, binascii.Error, TypeError):
        pass
    raise bad_request("The $skiptoken is not valid for this query.")


def keyset_sql(order, values):
    """(sql, params) selecting the rows after `values` in `order` ([(column, desc)], key last)."""
    if all(v is not None for v in values) and not any(desc for _, desc in order):
        cols = ", ".join(f'"{c}"' for c, _ in order)
        return f"({cols}) > ({', '.join('?' * len(values))})", list(values)
    alternatives, params = [], []
    for i, ((column, desc), value) in enumerate(zip(order, values, strict=True)):
        terms = [f'"{c}" IS ?' for c, _ in order[:i]]
        params_i = list(values[:i])
        after, after_params = _after(column, desc, value)
        alternatives.append("(" + " AND ".join([*terms, after]) + ")")
        params.extend(params_i + after_params)
    return "(" + " OR ".join(alternatives) + ")", params


def _after(column, desc, value):
    # SQLite (like SQL Server) sorts nulls first ascending and last descending.
    if not desc:
        return (f'"{column}" IS NOT NULL', []) if value is None else (f'"{column}" > ?', [value])
    return ("0", []) if value is None else (f'("{column}" < ? OR "{column}" IS NULL)', [value])
