"""The one exception the emulator raises to answer with a CRM error body."""

from cdms_api import crm_codes

CODES = {
    400: crm_codes.BAD_REQUEST,
    401: crm_codes.UNAUTHORIZED,
    403: crm_codes.FORBIDDEN,
    404: crm_codes.NOT_FOUND,
    405: crm_codes.METHOD_NOT_ALLOWED,
    413: crm_codes.PAYLOAD_TOO_LARGE,
    415: crm_codes.BAD_REQUEST,
    500: crm_codes.SERVER_ERROR,
    503: crm_codes.SERVER_ERROR,
}


class CRMError(Exception):
    """An error answered as `{"error": {"code", "message"}}` with an HTTP status."""

    def __init__(self, status, message, code=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, crm_codes.SERVER_ERROR)

    def body(self):
        """The CRM error body as a dict."""
        return {"error": {"code": self.code, "message": {"lang": "en-US", "value": self.message}}}


def bad_request(message):
    """A 400 for a bad URI, filter, GUID, JSON body or type."""
    return CRMError(400, message)


def not_found(message):
    """A 404 for an unknown entity set or record."""
    return CRMError(404, message)
