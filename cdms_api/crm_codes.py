"""Error codes that Dynamics CRM 2011 puts in `error.code`, shared by the client and the emulator.

The real server's codes are hexadecimal HRESULTs written as signed decimals. Where public sources
do not say which code a case gets, the choice is made here, once.
"""

NOT_FOUND = "-2147220969"
PAGING_LIMIT = "-2147220715"
DUPLICATE_KEY = "-2147220937"
BAD_REQUEST = "-2147220989"
UNAUTHORIZED = "-2147220960"
FORBIDDEN = "-2147220839"
METHOD_NOT_ALLOWED = "-2147220891"
PAYLOAD_TOO_LARGE = "-2147220892"
SERVER_ERROR = "-2147220970"

PAGING_LIMIT_MESSAGE = (
    "Paging cookie required to retrieve more records. Update your query to retrieve with a paging cookie."
)
DUPLICATE_KEY_MESSAGE = "Cannot insert duplicate key."
