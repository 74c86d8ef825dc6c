"""Parsing a request path below the service root into entity set, key and property."""

import re
from dataclasses import dataclass

from .errors import bad_request, not_found
from .values import parse_guid

SERVICE_PATH = "/XRMServices/2011/OrganizationData.svc"
# A real CRM 2011 writes records' `__metadata.uri` (and `Location`) with this path, but its
# `__next` links with SERVICE_PATH; IIS takes either, in any case.
RECORD_PATH = "/xrmservices/2011/OrganizationData.svc"
PATH_RE = re.compile(r"^/(?P<set>[^/(]+)(?:\((?P<key>[^)]*)\))?(?:/(?P<prop>[^/]+))?/?$")
KEY_RE = re.compile(r"^guid'(?P<guid>[^']*)'$")


@dataclass
class Call:
    """One service request: the effective method and what it addresses."""

    method: str
    path: str
    root: str
    query_string: str = ""
    body: bytes = b""
    entity: object = None
    key: str | None = None
    prop: str | None = None
    special: str | None = None  # "service" or "metadata"

    @property
    def entity_set(self):
        """The addressed entity set name, or None."""
        return self.entity.set_name if self.entity else None


def service_path(path):
    """`path` with the service root spelled as SERVICE_PATH, in whatever case it came (IIS ignores case)."""
    head, rest = path[: len(SERVICE_PATH)], path[len(SERVICE_PATH) :]
    if head.lower() == SERVICE_PATH.lower() and rest[:1] in ("", "/"):
        return SERVICE_PATH + rest
    return path


def record_root(service_root):
    """The root that records' URIs begin with (RECORD_PATH's case)."""
    return service_root.replace(SERVICE_PATH, RECORD_PATH)


def route(call, schema):
    """Fill in the entity, key and property of `call` from its path (404/400 when invalid)."""
    rest = call.path[len(SERVICE_PATH) :]
    if rest in ("", "/"):
        call.special = "service"
        return call
    if rest == "/$metadata":
        call.special = "metadata"
        return call
    match = PATH_RE.match(rest)
    set_name = match.group("set") if match else rest.strip("/").split("/")[0]
    if set_name not in schema.by_set:
        raise not_found(f"Resource not found for the segment '{set_name}'.")
    call.entity = schema.by_set[set_name]
    if not match or (match.group("prop") or "").startswith("$"):
        raise bad_request(f"The URI segment '{rest}' is not supported.")
    if match.group("key") is not None:
        call.key = _key(match.group("key"))
    elif match.group("prop"):
        raise bad_request(f"The URI segment '{rest}' is not supported.")
    call.prop = match.group("prop")
    return call


def _key(text):
    match = KEY_RE.match(text)
    if not match:
        raise bad_request(f"Bad Request - Error in query syntax: the key ({text}) is not a guid literal.")
    return parse_guid(match.group("guid"), "key")
