"""How failures of the CRM become REST answers: 502, 503 or 504 with a JSON body, never a 500.

The API talks to the CRM only through the ORM, so a CRM that is down, slow or refusing
surfaces in a view as a `CDMSError` (or a sync-layer error). DRF calls `exception_handler`
for every exception a view raises; this one answers those errors as a gateway would:

| error | status | code |
|---|---|---|
| CDMSTimeoutError | 504 | `cdms_timeout` |
| CDMSUnavailableError, CDMSConnectionError | 503 | `cdms_unavailable` |
| CDMSNotFoundError | 404 | `cdms_not_found` |
| any other CDMSError, BulkWriteError | 502 | `cdms_bad_gateway` |
| ObjectsNotInSyncError | 409 | `cdms_out_of_sync` |

Nothing is left half-written: the sync layer rolls a local write back when its CRM call
fails, and this handler rolls back the request's revision (which would otherwise record
the values that never reached the CRM); rows refreshed before a failing read are true
copies of the CRM's and are kept.

`core.api` re-exports the handler, so settings name `core.api.exception_handler` and
retiring the CRM means pointing that seam back at DRF's own handler.
"""

import logging

from django.db import transaction
from rest_framework import status
from rest_framework.response import Response
from reversion import revisions as reversion

from cdms_api import exceptions as cdms

from .exceptions import BulkWriteError, ObjectsNotInSyncError

log = logging.getLogger("migrator.api")
RETRY_AFTER_SECONDS = 30

# Checked in order: subclasses before their bases.
ANSWERS = (
    (cdms.CDMSTimeoutError, status.HTTP_504_GATEWAY_TIMEOUT, "cdms_timeout", "The CRM did not answer in time."),
    (
        cdms.CDMSUnavailableError,
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "cdms_unavailable",
        "The CRM is unavailable.",
    ),
    (cdms.CDMSConnectionError, status.HTTP_503_SERVICE_UNAVAILABLE, "cdms_unavailable", "The CRM is unreachable."),
    (cdms.CDMSNotFoundError, status.HTTP_404_NOT_FOUND, "cdms_not_found", "The record is gone from the CRM."),
    (cdms.CDMSError, status.HTTP_502_BAD_GATEWAY, "cdms_bad_gateway", "The CRM gave an unexpected answer."),
    (BulkWriteError, status.HTTP_502_BAD_GATEWAY, "cdms_bad_gateway", "The CRM refused some of the writes."),
    (
        ObjectsNotInSyncError,
        status.HTTP_409_CONFLICT,
        "cdms_out_of_sync",
        "The local copy is newer than the CRM's; an operator must reconcile it.",
    ),
)


def crm_failure(exc, where):
    """(status, code, detail) for a failure of the CRM, else None; logs it and rolls back the request.

    The revision middleware wraps a write request in a transaction and a revision, which
    already holds a version of the object whose CRM write failed; both are rolled back.
    """
    for kind, code_status, code, detail in ANSWERS:
        if isinstance(exc, kind):
            log.warning("%s answered %d (%s): %s", where, code_status, code, exc)
            if reversion.is_active():
                transaction.set_rollback(True)
            return code_status, code, detail
    return None


def exception_handler(exc, context):
    """DRF's handler, plus gateway answers for failures of the CRM."""
    failure = crm_failure(exc, "API")
    if failure is None:
        # Imported here: DRF imports the settings' classes while importing its views.
        from rest_framework.views import exception_handler as drf_exception_handler

        return drf_exception_handler(exc, context)
    code_status, code, detail = failure
    body = {"detail": detail, "code": code}
    if isinstance(exc, cdms.CDMSError):
        body["cdms_status"] = exc.status
        body["cdms_code"] = exc.code
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if code_status == 503 else None
    return Response(body, status=code_status, headers=headers)
