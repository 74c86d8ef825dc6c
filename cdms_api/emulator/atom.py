"""Atom XML answers for clients that do not ask for JSON, as WCF Data Services gives them.

CRM 2011 answers Atom unless the request says `Accept: application/json`; a media type that is
neither JSON, XML, Atom nor a wildcard is refused with 415.
"""

from xml.sax.saxutils import escape

from .errors import CRMError

ATOM_TYPES = ("application/atom+xml", "application/xml", "text/xml", "*/*", "application/*")
M = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
D = "http://schemas.microsoft.com/ado/2007/08/dataservices"


def wants_json(accept):
    """Whether the Accept header asks for JSON."""
    return "application/json" in accept.lower()


def check_acceptable(accept):
    """A 415 unless the Accept header allows Atom/XML (or is absent)."""
    lowered = accept.lower()
    if lowered.strip() and not any(t in lowered for t in ATOM_TYPES):
        raise CRMError(415, "Unsupported media type requested.")


def _value(name, value):
    if isinstance(value, dict) and "__deferred" in value:
        return ""
    if value is None:
        return f'<d:{name} m:null="true" />'
    if isinstance(value, dict):
        inner = "".join(_value(k, v) for k, v in value.items() if k != "__metadata")
        return f"<d:{name}>{inner}</d:{name}>"
    if isinstance(value, bool):
        value = str(value).lower()
    return f"<d:{name}>{escape(str(value))}</d:{name}>"


def _entry(record):
    uri = record["__metadata"]["uri"]
    props = "".join(_value(k, v) for k, v in record.items() if k != "__metadata")
    links = "".join(
        f'<link rel="{D}/related/{k}" title="{k}" href="{escape(v["__deferred"]["uri"])}" />'
        for k, v in record.items()
        if isinstance(v, dict) and "__deferred" in v
    )
    return (
        f'<entry><id>{escape(uri)}</id><title type="text" /><author><name /></author>'
        f'<link rel="edit" href="{escape(uri)}" />{links}'
        f'<category term="{record["__metadata"]["type"]}" '
        f'scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme" />'
        f'<content type="application/xml"><m:properties>{props}</m:properties></content></entry>'
    )


def render_atom(payload, call, accept):
    """(content type, body bytes) of a payload as an Atom feed or entry."""
    head = '<?xml version="1.0" encoding="utf-8" standalone="yes"?>'
    spaces = f'xmlns="http://www.w3.org/2005/Atom" xmlns:d="{D}" xmlns:m="{M}"'
    if "results" in payload:
        entries = "".join(_entry(r) for r in payload["results"])
        nxt = f'<link rel="next" href="{escape(payload["__next"])}" />' if "__next" in payload else ""
        body = f'{head}<feed {spaces}><title type="text">{call.entity_set}</title>{entries}{nxt}</feed>'
        return "application/atom+xml;type=feed;charset=utf-8", body.encode()
    if "__metadata" in payload:
        body = head + _entry(payload).replace("<entry>", f"<entry {spaces}>", 1)
        return "application/atom+xml;type=entry;charset=utf-8", body.encode()
    props = "".join(_value(k, v) for k, v in payload.items())
    return "application/xml;charset=utf-8", f'{head}<root xmlns:d="{D}" xmlns:m="{M}">{props}</root>'.encode()


def render_error_xml(error):
    """The CRM error body as OData XML."""
    return (
        f'<?xml version="1.0" encoding="utf-8" standalone="yes"?><error xmlns="{M}">'
        f'<code>{error.code}</code><message xml:lang="en-US">{escape(error.message)}</message></error>'
    ).encode()
