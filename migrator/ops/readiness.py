"""Readiness checks of the sync: the CRM answers, and the follower's watermarks are fresh.

The watermark check applies only when bounded-staleness reads are on (CDMS_MAX_STALENESS set):
without a follower every read is strict and the watermarks mean nothing. It checks the change
watermark of every synced entity against CDMS_READY_MAX_WATERMARK_AGE; deletions newer than
the delete watermark are caught by the key check of every bounded read, so that one is shown
but not judged.
"""

from django.utils import timezone

from cdms_api.exceptions import CDMSError

from ..cdms_migrator import registered_migrators
from ..conf import cdms_settings
from ..connection import get_client
from .metrics import watermark_ages


def crm_answers():
    """Check that the CRM answers its service root (one request, never retried)."""
    client = get_client()
    try:
        client.request("GET", "", idempotent=False)
    except CDMSError as exc:
        return False, f"{cdms_settings.CDMS_BASE_URL}: {type(exc).__name__}: {exc}"
    return True, cdms_settings.CDMS_BASE_URL


def watermarks_fresh():
    """Check that every synced entity's change watermark is younger than the threshold."""
    if cdms_settings.CDMS_MAX_STALENESS is None:
        return True, "not checked: CDMS_MAX_STALENESS is unset, so every read is strict"
    limit = cdms_settings.CDMS_READY_MAX_WATERMARK_AGE
    ages = watermark_ages(timezone.now())
    detail, stale = {}, []
    for entity in sorted(m.service for m in registered_migrators()):
        changes, deletions = ages.get(entity, (None, None))
        detail[entity] = {"changes_age_seconds": changes, "deletions_age_seconds": deletions}
        if changes is None or changes > limit:
            stale.append(entity)
    if stale:
        detail["problem"] = f"change watermark older than {limit:.0f} s or never set: {', '.join(stale)}"
    return not stale, detail
