"""`/healthz` (the process answers) and `/readyz` (everything it needs answers).

Readiness runs the database check below plus every check that an installed app names in its
config's `readiness_checks` (a dict: check name -> dotted path of a callable returning
`(ok, detail)`, where `ok` is True, False, or `"degraded"`: serving, but not as well as it
should). Any failure answers 503 `not ready`; a degraded check answers 200 `degraded`, so a load
balancer keeps the node while whoever reads the JSON body sees which check is degraded and why.
"""

from django.apps import apps
from django.db import connection
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def database():
    """Check that the database answers a query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, connection.vendor


def checks():
    """Return {name: check} of the database and of every installed app."""
    found = {"database": database}
    for config in apps.get_app_configs():
        for name, path in getattr(config, "readiness_checks", {}).items():
            found[name] = import_string(path)
    return found


DEGRADED = "degraded"


def run(check):
    """Return (status, detail) of one check: `ready`, `degraded` or `not ready`.

    An exception is a failure named by it.
    """
    try:
        ok, detail = check()
    except Exception as exc:  # a probe reports every failure rather than raising
        return "not ready", f"{type(exc).__name__}: {exc}"
    if ok == DEGRADED:
        return DEGRADED, detail
    return ("ready" if ok else "not ready"), detail


@never_cache
@require_GET
def healthz(request):
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Answer 200 `ready` or `degraded`, or 503 `not ready` naming the failed checks."""
    results = {name: run(check) for name, check in checks().items()}
    failed = sorted(name for name, (status, _) in results.items() if status == "not ready")
    degraded = sorted(name for name, (status, _) in results.items() if status == DEGRADED)
    body = {
        "status": "not ready" if failed else DEGRADED if degraded else "ready",
        "failed": failed,
        "degraded": degraded,
        "checks": {
            name: {"ok": status == "ready", "status": status, "detail": detail}
            for name, (status, detail) in results.items()
        },
    }
    return JsonResponse(body, status=503 if failed else 200)
