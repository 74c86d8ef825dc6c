"""Errors raised by the sync layer (failures of the CRM itself are `cdms_api.exceptions.CDMSError`)."""

from django.db import NotSupportedError as DjangoNotSupportedError

from cdms_api.exceptions import CDMSError


class SyncError(Exception):
    """Base class for errors of the sync layer."""


class ObjectsNotInSyncError(SyncError):
    """Local rows are newer than their CRM records: a write bypassed the CRM."""

    def __init__(self, model, keys):
        self.model = model
        self.keys = list(keys)
        shown = ", ".join(self.keys[:5]) + (f" (and {len(self.keys) - 5} more)" if len(self.keys) > 5 else "")
        super().__init__(
            f"{model._meta.label}: the local rows {shown} are newer than the CRM's; "
            "a write bypassed the CRM, so they were left as they are."
        )


class NotSupportedError(SyncError, DjangoNotSupportedError):
    """An ORM operation that the sync layer cannot perform correctly."""

    def __init__(self, method, reason):
        self.method = method
        super().__init__(f"{method}() is not supported on a CRM-synced queryset: {reason}")


class ReadOnlyEntityError(SyncError):
    """A write to a model whose mapping is read-only (`read_only = True`): the CRM owns its records."""

    def __init__(self, model, operation):
        self.model = model
        self.operation = operation
        super().__init__(
            f"{operation}() refused: {model._meta.label} mirrors records the CRM owns (its mapping is "
            "read-only), so it cannot be written here; change them in the CRM and they follow."
        )


class BulkWriteError(SyncError):
    """Some rows of a bulk write failed in the CRM; the others were written on both sides."""

    def __init__(self, operation, failures, succeeded):
        self.operation = operation
        self.failures = failures
        self.succeeded = succeeded
        detail = "; ".join(f"{item!r}: {exc}" for item, exc in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(
            f"{operation}: {len(failures)} of {len(failures) + len(succeeded)} rows failed in the CRM: "
            f"{detail}{more}"
        )


class ReadCapError(CDMSError):
    """A strict read needs more CRM rows than CDMS_SYNC_MAX_ROWS: refused rather than answered short."""

    def __init__(self, model, cap, what, stale=None):
        self.model = model
        self.cap = cap
        self.what = what
        if stale:
            way_out = (
                f"This read may lag the CRM, but {stale}: check that the change follower (manage.py "
                "cdms_follow) is running and keeping up (see /readyz), or set CDMS_STALE_READS=mirror."
            )
        else:
            way_out = (
                "Narrow the filter, raise CDMS_SYNC_MAX_ROWS, or run the change follower (manage.py "
                "cdms_follow) and allow reads to lag by setting CDMS_MAX_STALENESS."
            )
        super().__init__(
            f"{model._meta.label}: {what} more than CDMS_SYNC_MAX_ROWS={cap} CRM rows, so a strict read "
            f"cannot answer exactly and answers nothing. {way_out}"
        )

    def because(self, stale):
        """The same refusal, saying which watermark made the read strict (`stale`, in words)."""
        return ReadCapError(self.model, self.cap, self.what, stale=stale)

    def _describe(self):
        return self.message


class StaleMirrorError(SyncError):
    """A bounded read found a change watermark past its bound, and CDMS_STALE_READS=error refuses it."""

    def __init__(self, stale):
        self.stale = stale
        super().__init__(
            f"The local mirror is too stale to answer this read: {stale}. Check that the change follower "
            "(manage.py cdms_follow) is running (see /readyz); CDMS_STALE_READS=error refuses such reads."
        )


class CompensationFailedError(CDMSError):
    """A local write failed after the CRM accepted it, and undoing it in the CRM failed too.

    The two sides differ: the CRM holds what it accepted (`undone` says what could not be put
    back). The local error is the `__cause__`. Calling the same write again takes over what the
    CRM holds (a create adopts its record under the same key).
    """

    def __init__(self, undone, cause):
        self.undone = list(undone)
        super().__init__(
            f"The local write failed ({cause!r}) after the CRM accepted it, and undoing it in the CRM failed "
            f"for: {', '.join(self.undone)}. The CRM keeps that change; retry the write to settle it."
        )

    def _describe(self):
        return self.message
