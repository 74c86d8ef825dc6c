"""The HTTP control interface outside the service root, for manual use and `make run`.

`POST /_emulator/faults` (JSON with the arguments of `Faults.add`), `DELETE /_emulator/faults`,
`POST /_emulator/reset`, `GET /_emulator/stats`, `GET /_emulator/faults`. With accounts (NTLM or
AD FS), `GET /_emulator/stats` adds `sign_in_attempts`: password checks, refused ones, locked accounts.
"""

import json

from .answers import error_response, json_response
from .errors import CRMError


def control(emu, environ):
    """The Response of a control request."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "").rstrip("/")
    try:
        if path == "/_emulator/faults" and method == "POST":
            fault = emu.faults.add(**_json(environ))
            return json_response(201, {"fault": vars(fault)})
        if path == "/_emulator/faults" and method == "DELETE":
            emu.faults.clear()
            return json_response(200, {"faults": []})
        if path == "/_emulator/faults" and method == "GET":
            return json_response(200, {"faults": emu.faults.pending()})
        if path == "/_emulator/reset" and method == "POST":
            emu.reset()
            return json_response(200, {"reset": True})
        if path == "/_emulator/stats" and method == "GET":
            requests = [list(r) for r in emu.stats.requests]
            stats = {"count": len(requests), "requests": requests}
            if emu.accounts is not None:
                stats["sign_in_attempts"] = emu.accounts.summary()
            return json_response(200, stats)
    except (TypeError, ValueError) as exc:
        return error_response(CRMError(400, str(exc)))
    return error_response(CRMError(404, f"No control endpoint {method} {path}."))


def _json(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    if not isinstance(body, dict):
        raise ValueError("The body must be a JSON object.")
    return body
