"""The emulator's answers: status, headers and body, and the JSON and CRM-error answers built from them."""

import json

from .atom import render_error_xml


class Response:
    """Status, headers and body bytes of one answer."""

    def __init__(self, status, headers=(), body=b""):
        self.status, self.headers, self.body = status, list(headers), body


def json_response(status, payload, headers=()):
    """A JSON answer."""
    body = json.dumps(payload).encode()
    return Response(status, [("Content-Type", "application/json;charset=utf-8"), *headers], body)


def error_response(error, as_json=True, headers=()):
    """The CRM error body of `error`, JSON or XML."""
    if as_json:
        return json_response(error.status, error.body(), headers)
    body = render_error_xml(error)
    return Response(error.status, [("Content-Type", "application/xml;charset=utf-8"), *headers], body)
