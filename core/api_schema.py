"""The OpenAPI schema: every answer an operation can give, with its body, and bounded parameters.

drf-spectacular documents the success answer only. `AutoSchema` adds the failures:

- 400 for an operation that takes input: DRF's body (field → messages), or a registered
  answer (`{"detail", "code"}`, such as a read too large for the CRM);
- 401 and 403 for every operation (a signed-in user holding the model permission);
- 404 for an operation on one record, and for a list page past the last;
- 413 and 415 for an operation with a body: one over the size limit, one that is not JSON;
- each status an app registered an answer for (`core.api_errors`): while the CRM is live,
  the sync layer's 409, 502, 503 and 504. Retiring the CRM removes those from the schema.

`postprocess_schema` (a drf-spectacular hook) states what the API refuses that the generated
schema does not say: text never holds a NUL character (DRF refuses one), a date written is
from 1753 on, and a filter parameter given empty is no filter at all.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from .api_errors import registered_answers

NO_NUL = "^[^\\u0000]*$"
# Stored dates start at 1753-01-01 (the CRM's range, checked by the model fields' validators).
FROM_1753 = "^(175[3-9]|17[6-9][0-9]|1[89][0-9]{2}|[2-9][0-9]{3})-"
DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
ANSWER = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
INVALID = {
    "type": "object",
    "description": "Each invalid field or parameter, with its messages.",
    "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
}
DESCRIPTIONS = {
    400: "Invalid input, or a request the service refuses to answer (see `code`).",
    401: "No or bad credentials.",
    403: "The user lacks the model permission.",
    404: "No such record, or a page past the last.",
    413: "The body is larger than the service accepts (`code`: `request_too_large`).",
    415: "The body is not JSON.",
}
NOT_FILTERS = {"page", "page_size", "search", "ordering"}


def _response(status, schema):
    return {
        "description": DESCRIPTIONS.get(status, "The request could not be completed."),
        "content": {"application/json": {"schema": schema}},
    }


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema of an operation, with the failures it can answer."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status, schema in self._failures().items():
            responses.setdefault(str(status), _response(status, schema))
        return responses

    def _failures(self):
        failures = {401: DETAIL, 403: DETAIL}
        takes_body = self.method in ("POST", "PUT", "PATCH")
        lists = self._is_list_view()
        if takes_body or lists:
            failures[400] = {"anyOf": [INVALID, ANSWER]}
        if takes_body:
            failures[413] = ANSWER
            failures[415] = DETAIL
        if lists or "{" in self.path:
            failures[404] = DETAIL
        for answer in registered_answers():
            failures.setdefault(answer.status, ANSWER)
        return dict(sorted(failures.items()))


def postprocess_schema(result, generator, request, public):
    """Text without NUL characters everywhere; filter parameters that may be given empty."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                _forbid_nul(parameter["schema"])
                if parameter["in"] == "query" and parameter["name"] not in NOT_FILTERS:
                    parameter["schema"] = {"anyOf": [parameter["schema"], {"type": "string", "maxLength": 0}]}
    for component in result.get("components", {}).get("schemas", {}).values():
        for prop in component.get("properties", {}).values():
            _forbid_nul(prop)
            if prop.get("format") == "date-time" and not prop.get("readOnly"):
                prop.setdefault("pattern", FROM_1753)
    return result


def _forbid_nul(schema):
    if schema.get("type") == "string" and "format" not in schema and "enum" not in schema:
        schema.setdefault("pattern", NO_NUL)
