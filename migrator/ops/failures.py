"""The CRM's failures as answers: 502, 503 or 504 with a JSON body (or a plain page), never a 500.

The API talks to the CRM only through the ORM, so a CRM that is down, slow or refusing
surfaces in a view as a `CDMSError` (or a sync-layer error). `register_answers()`, called
from the app's `ready()`, tells `core.api_errors` to answer those as a gateway would:

| error | status | code |
|---|---|---|
| CDMSTimeoutError | 504 | `cdms_timeout` |
| CDMSUnavailableError, CDMSConnectionError | 503 | `cdms_unavailable` |
| CDMSNotFoundError | 404 | `cdms_not_found` |
| ReadCapError (a strict read past CDMS_SYNC_MAX_ROWS) | 400 | `cdms_read_too_large` |
| StaleMirrorError (CDMS_STALE_READS=error, a watermark past its bound) | 503 | `cdms_mirror_stale` |
| CompensationFailedError (a write the CRM accepted, not undone there) | 502 | `cdms_write_not_undone` |
| any other CDMSError, BulkWriteError | 502 | `cdms_bad_gateway` |
| ObjectsNotInSyncError | 409 | `cdms_out_of_sync` |
| ReadOnlyEntityError (a write to a model whose mapping is read-only) | 405 | `cdms_read_only` |
| CDMSValueError (a value the CRM cannot take, refused before it was sent) | 400 | `cdms_value_refused` |

Nothing is left half-written: the sync layer rolls a local write back when its CRM call
fails, and core rolls back the request's revision (which would otherwise record the values
that never reached the CRM); rows refreshed before a failing read are true copies of the
CRM's and are kept. Retiring the CRM deletes this module with the app; core is unchanged.
"""

from cdms_api import exceptions as cdms
from core.api_errors import Answer, register

from ..exceptions import (
    BulkWriteError,
    CompensationFailedError,
    ObjectsNotInSyncError,
    ReadCapError,
    ReadOnlyEntityError,
    StaleMirrorError,
)

TITLE = "The CRM could not be reached"


def _crm_status(exc):
    return {"cdms_status": exc.status, "cdms_code": exc.code}


def _gateway(status, code, detail):
    return Answer(status, code, detail, extra=_crm_status, title=TITLE)


ANSWERS = {
    cdms.CDMSTimeoutError: _gateway(504, "cdms_timeout", "The CRM did not answer in time."),
    cdms.CDMSUnavailableError: _gateway(503, "cdms_unavailable", "The CRM is unavailable."),
    cdms.CDMSConnectionError: _gateway(503, "cdms_unavailable", "The CRM is unreachable."),
    cdms.CDMSNotFoundError: _gateway(404, "cdms_not_found", "The record is gone from the CRM."),
    cdms.CDMSError: _gateway(502, "cdms_bad_gateway", "The CRM gave an unexpected answer."),
    # Refused before the CRM was asked; the message names the field and its attribute.
    cdms.CDMSValueError: Answer(400, "cdms_value_refused", None, title="The CRM cannot store this value"),
    # The client can narrow its filter; the message names the cap and the other ways out.
    ReadCapError: Answer(400, "cdms_read_too_large", None, title="The read is larger than the CRM sync allows"),
    # The message names the stale watermark and its age.
    StaleMirrorError: Answer(503, "cdms_mirror_stale", None, title="The local copy of the CRM is too stale"),
    BulkWriteError: Answer(502, "cdms_bad_gateway", "The CRM refused some of the writes.", title=TITLE),
    # The message names the records the CRM kept; retrying the same write settles them.
    CompensationFailedError: Answer(502, "cdms_write_not_undone", None, title=TITLE),
    # Refused before the CRM was asked; the message names the model.
    ReadOnlyEntityError: Answer(405, "cdms_read_only", None, title="These records are read-only here"),
    ObjectsNotInSyncError: Answer(
        409,
        "cdms_out_of_sync",
        "The local copy is newer than the CRM's; an operator must reconcile it.",
        title="The local copy is out of sync with the CRM",
    ),
}


def register_answers():
    """Register the CRM's failures with core's error handling."""
    for kind, answer in ANSWERS.items():
        register(kind, answer)
