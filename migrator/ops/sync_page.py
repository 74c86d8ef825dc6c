"""The admin's "CRM sync" page: how fresh the mirror is, and the rows in conflict with the CRM.

At the top it says when the CRM's credentials are refused (and until when nothing is sent), with
a button for an operator who has fixed them; then how reads are answered now, in words (from the
mirror, strict, or marked stale), as `/readyz` judges it. Per entity it shows the follower's
watermarks and their age (a watermark past the bound reads judge it by is highlighted), the
CRM's measured clock skew, the last follower round and key sweep with their errors, and every
row newer locally than in the CRM, each with two buttons: "Keep the CRM's version" and "Push the
local version" (see `conflicts`). Finding conflicts compares every key with the CRM, one CRM
request per 50 records: the page does it by itself for an entity of up to `AUTO_COMPARE_ROWS`
local rows; for a larger one a button starts it in the background (`compare_job`), and the page
shows how far it has got (refreshing itself while it runs) and then the conflicts it found.
"""

import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone

from cdms_api.exceptions import CDMSError

from .. import credentials
from ..cdms_migrator import registered_migrators
from ..conf import cdms_settings
from ..mirror import journal
from ..mirror.state import SyncStatus, Watermark
from . import compare_job, conflicts, readiness

# 100 CRM requests: a page that answers in a few seconds. Past that a person asks for the scan.
AUTO_COMPARE_ROWS = 5000
COMPARE = "compare"
CREDENTIALS_FIXED = "credentials-fixed"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@admin.register(SyncStatus)
class SyncStatusAdmin(admin.ModelAdmin):
    """One page instead of a change list: the sync's state and its conflicts."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """Show the page (GET) or resolve one conflict and come back to it (POST)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return self._resolve(request)
        context = {
            **self.admin_site.each_context(request),
            "title": "CRM sync",
            "opts": self.model._meta,
            "entities": [_entity(migrator, timezone.now()) for migrator in _migrators()],
            "actions": {
                "keep": conflicts.KEEP_CRM,
                "push": conflicts.PUSH_LOCAL,
                "compare": COMPARE,
                "credentials_fixed": CREDENTIALS_FIXED,
            },
            "reads": _reads_now(),
            "refusal": _refusal(),
        }
        context["comparing"] = any(e["job"] and e["job"]["live"] for e in context["entities"])
        return TemplateResponse(request, "admin/migrator/sync_status.html", context)

    def _resolve(self, request):
        if request.POST.get("action") == CREDENTIALS_FIXED:
            return self._credentials_fixed(request)
        migrator = {m.service: m for m in _migrators()}.get(request.POST.get("entity"))
        if migrator is not None and request.POST.get("action") == COMPARE:
            run = compare_job.start(migrator)
            since = f"{run.started:%H:%M:%S}"
            self.message_user(request, f"{migrator.service}: comparing with the CRM since {since}.")
            return HttpResponseRedirect(request.path)
        key, action = request.POST.get("key", "").lower(), request.POST.get("action")
        if migrator is None or not GUID.match(key) or action not in conflicts.COMMENTS:
            return HttpResponseBadRequest("A conflict action needs a known entity, a CRM key and an action.")
        model = migrator.model_class
        if not request.user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}"):
            raise PermissionDenied
        try:
            conflicts.resolve(model, key, action, request.user)
        except (CDMSError, model.DoesNotExist, ValueError) as exc:  # ValueError: a parent not in the CRM
            self.message_user(request, f"{migrator.service} {key}: not resolved: {exc}", messages.ERROR)
        else:
            self.message_user(request, f"{migrator.service} {key}: {conflicts.COMMENTS[action].lower()}.")
        return HttpResponseRedirect(request.path)

    def _credentials_fixed(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        cleared = credentials.mark_fixed()
        message = f"Forgot {cleared} refusal(s) of the CRM credentials; the next request signs in."
        self.message_user(request, message)
        return HttpResponseRedirect(request.path)


def _refusal():
    """The refused credentials in words, or None."""
    refusal = credentials.refusal_in_force()
    return None if refusal is None else credentials.describe(refusal)


def _migrators():
    return sorted(registered_migrators(), key=lambda m: m.service)


def _reads_now():
    """How reads are answered now, in words, and whether that is as it should be."""
    ok, detail = readiness.watermarks_fresh()
    if isinstance(detail, str):
        return {"fresh": True, "words": "strict: every read asks the CRM (CDMS_MAX_STALENESS is unset)"}
    return {"fresh": ok is True, "words": detail["reads"], "problem": detail.get("problem")}


def _past_bounds(watermark, ages):
    """{"changes": bool, "deletions": bool}: which watermarks are past the bounds reads judge them by."""
    bound = cdms_settings.CDMS_MAX_STALENESS
    if bound is None:
        return {"changes": False, "deletions": False}
    delete_bound = max(bound, cdms_settings.CDMS_MAX_DELETE_STALENESS)
    changes, deletions = ages.get("changes_until"), ages.get("deletions_until")
    return {
        "changes": changes is None or changes > bound,
        "deletions": deletions is None or deletions > delete_bound,
        "changes_bound": int(bound),
        "deletions_bound": int(delete_bound),
    }


def _entity(migrator, now):
    watermark = Watermark.objects.filter(entity=migrator.service).first()
    rows = migrator.model_class._base_manager.count()
    entity = {"name": migrator.service, "watermark": watermark, "ages": {}, "conflicts": [], "error": None}
    entity.update(rows=rows, requests=rows // 50 + 1, compared=rows <= AUTO_COMPARE_ROWS, job=None)
    if watermark:
        for name in ("changes_until", "deletions_until", "last_follow_at", "last_sweep_at"):
            moment = getattr(watermark, name)
            entity["ages"][name] = None if moment is None else int((now - moment).total_seconds())
    entity["past"] = _past_bounds(watermark, entity["ages"])
    entity["left_writes"] = _left_writes(migrator, now)
    if not entity["compared"]:
        return _background(migrator, entity, now)
    try:
        entity["conflicts"] = conflicts.find(migrator)
    except CDMSError as exc:
        entity["error"] = f"The CRM could not be asked for conflicts: {exc}"
    return entity


def _left_writes(migrator, now):
    """CRM writes of the entity whose transaction rolled back, left in place because someone changed them since."""
    left = [w for w in journal.conflicts() if w["service"] == migrator.service]
    for write in left:
        write["age"] = int(now.timestamp() - write["created_at"])
    return left


def _background(migrator, entity, now):
    """The entity's background comparison: its progress, or the conflicts it found."""
    run = compare_job.latest(migrator.service)
    if run is None:
        return entity
    live = compare_job.is_live(run)
    expected = max(run.expected_rows, run.crm_rows_listed, 1)
    entity["job"] = {
        "run": run,
        "live": live,
        "interrupted": run.state == run.RUNNING and not live,
        "percent": min(100, round(100 * run.crm_rows_listed / expected)),
        "age": int((now - run.started).total_seconds()),
    }
    if run.state == run.DONE:
        try:
            entity["conflicts"] = conflicts.describe(migrator, run.local_newer)
        except CDMSError as exc:
            entity["error"] = f"The CRM could not be asked for the conflicting records: {exc}"
    elif run.state == run.FAILED:
        entity["error"] = f"The comparison with the CRM failed: {run.error}"
    return entity
