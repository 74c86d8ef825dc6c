"""Readiness checks of the sync: the CRM answers, and the follower's watermarks are what reads need.

`/readyz` judges what the read path judges (`read.gate`): each entity's change watermark against
CDMS_MAX_STALENESS and its delete watermark against max(CDMS_MAX_STALENESS,
CDMS_MAX_DELETE_STALENESS). All within their bounds: ready. A watermark past its bound:
degraded (200), saying what reads do now (strict, or answered from the mirror marked stale),
or not ready (503) when CDMS_STALE_READS=error refuses those reads, or when the change watermark
is older than CDMS_READY_MAX_WATERMARK_AGE (unset by default: never). A CRM that does not answer
is not ready, except that with bounded reads answered from the mirror it is degraded: reads go
on, marked, and only writes fail. Without a bound (CDMS_MAX_STALENESS unset) every read is
strict and the watermarks are not judged. Credentials the CRM or AD FS refused (and that are
not sent again until their back-off passes) make it not ready, saying why and until when.
"""

from django.utils import timezone

from cdms_api.exceptions import CDMSError

from ..cdms_migrator import registered_migrators
from ..conf import cdms_settings
from ..connection import get_client
from ..credentials import describe, refusal_in_force
from .metrics import watermark_ages

DEGRADED = "degraded"


def crm_answers():
    """Check that the CRM answers its service root (one request, never retried)."""
    client = get_client()
    try:
        client.request("GET", "", idempotent=False)
    except CDMSError as exc:
        detail = f"{cdms_settings.CDMS_BASE_URL}: {type(exc).__name__}: {exc}"
        if _mirror_answers():
            return DEGRADED, f"{detail}; reads are answered from the mirror, marked stale; writes fail"
        return False, detail
    skew = client.last_date.skew_seconds if client.last_date else None
    return True, {"url": cdms_settings.CDMS_BASE_URL, "crm_clock_skew_seconds": skew}


def credentials_accepted():
    """Not ready while refused credentials wait out their back-off (nothing reaches the CRM)."""
    refusal = refusal_in_force()
    if refusal is None:
        return True, f"not refused (CDMS_AUTH={cdms_settings.CDMS_AUTH})"
    return False, describe(refusal)


def _mirror_answers():
    return cdms_settings.CDMS_MAX_STALENESS is not None and cdms_settings.CDMS_STALE_READS == "mirror"


def watermarks_fresh():
    """Judge every synced entity's watermarks as a bounded read does; say what reads do now."""
    bound = cdms_settings.CDMS_MAX_STALENESS
    if bound is None:
        return True, "not checked: CDMS_MAX_STALENESS is unset, so every read is strict"
    delete_bound = max(bound, cdms_settings.CDMS_MAX_DELETE_STALENESS)
    ages = watermark_ages(timezone.now())
    detail, stale_changes, stale_deletions = {}, [], []
    for entity in sorted(m.service for m in registered_migrators()):
        changes, deletions = ages.get(entity, (None, None))
        detail[entity] = {
            "changes_age_seconds": changes,
            "changes_bound_seconds": bound,
            "deletions_age_seconds": deletions,
            "deletions_bound_seconds": delete_bound,
        }
        if changes is None or changes > bound:
            stale_changes.append(entity)
        if deletions is None or deletions > delete_bound:
            stale_deletions.append(entity)
    detail["reads"] = reads_now(stale_changes, stale_deletions)
    if not stale_changes and not stale_deletions:
        return True, detail
    detail["problem"] = _problem(stale_changes, stale_deletions)
    if stale_changes and (cdms_settings.CDMS_STALE_READS == "error" or _too_old(ages, stale_changes)):
        return False, detail
    return DEGRADED, detail


def reads_now(stale_changes, stale_deletions):
    """What a bounded read does now, in words, given the entities whose watermarks are stale."""
    mode = cdms_settings.CDMS_STALE_READS
    if stale_changes:
        names = ", ".join(stale_changes)
        if mode == "error":
            return f"refused (503): the change watermark of {names} is past its bound"
        if mode == "strict":
            return f"strict for {names}: read from the CRM (a read past CDMS_SYNC_MAX_ROWS is refused)"
        return (
            f"strict for {names} where a strict read can answer; otherwise from the mirror, marked stale "
            "(X-CDMS-Stale)"
        )
    if stale_deletions:
        return (
            "from the mirror; counts and offset pages of "
            f"{', '.join(stale_deletions)} are marked stale (the last key sweep is past its bound)"
        )
    return "from the mirror, rows verified by key"


def _problem(stale_changes, stale_deletions):
    parts = []
    if stale_changes:
        parts.append(f"change watermark past its bound or never set: {', '.join(stale_changes)}")
    if stale_deletions:
        parts.append(f"delete watermark past its bound or never set: {', '.join(stale_deletions)}")
    return "; ".join(parts)


def _too_old(ages, entities):
    limit = cdms_settings.CDMS_READY_MAX_WATERMARK_AGE
    if limit is None:
        return False
    return any(ages.get(entity, (None, None))[0] is None or ages[entity][0] > limit for entity in entities)
