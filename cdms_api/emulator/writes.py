"""Create (POST), update (MERGE / PUT) and delete, with CRM 2011's answers.

Create answers 201 with a Location header and the full record; the others answer 204 with an
empty body. The store serialises each read-modify-write, so concurrent MERGEs of one record are
applied one after the other and none is lost.
"""

import json

from cdms_api.domains import READ_ONLY_ATTRIBUTES

from .errors import CRMError, bad_request
from .query import Options
from .reads import read_records
from .records import key_uri

MAX_BODY = 4 * 1024 * 1024


def json_body(raw):
    """The JSON object of a request body; a 400 if it is not one."""
    try:
        body = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}.")
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    read_only = sorted(READ_ONLY_ATTRIBUTES & body.keys())
    if read_only:
        # OrganizationData.svc changes a record's state only through SetStateRequest (SOAP).
        raise bad_request(f"{', '.join(read_only)} cannot be set through this endpoint; use SetStateRequest.")
    return body


def check_size(length):
    """CRM (IIS) refuses request bodies over 4 MB."""
    if length > MAX_BODY:
        raise CRMError(413, "The request body is too large.")


def write(store, call):
    """(status, headers, payload or None) of a write."""
    entity = call.entity
    if call.method == "POST":
        key = store.insert(entity.name, json_body(call.body))[entity.key]
        # Re-render so that links use the host name the client called.
        record = read_records(store, call, entity, [store.row(entity, key)], Options())[0]
        return 201, [("Location", key_uri(call.root, entity, key))], record
    if call.method == "MERGE":
        store.update(entity.name, call.key, json_body(call.body))
    elif call.method == "PUT":
        store.replace(entity.name, call.key, json_body(call.body))
    else:
        store.delete(entity.name, call.key)
    return 204, [], None
