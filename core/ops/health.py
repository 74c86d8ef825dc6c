"""`/healthz` (the process answers) and `/readyz` (everything it needs answers).

Readiness runs the database check below plus every check that an installed app names in its
config's `readiness_checks` (a dict: check name -> dotted path of a callable returning
`(ok, detail)`). Any failure answers 503; the JSON body lists every check, so whoever reads it
sees which one failed and why.
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


def run(check):
    """Return (ok, detail) of one check; an exception is a failure named by it."""
    try:
        ok, detail = check()
    except Exception as exc:  # a probe reports every failure rather than raising
        return False, f"{type(exc).__name__}: {exc}"
    return bool(ok), detail


@never_cache
@require_GET
def healthz(request):
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Answer 200 when every readiness check passes, else 503 naming the failed ones."""
    results = {name: run(check) for name, check in checks().items()}
    failed = sorted(name for name, (ok, _) in results.items() if not ok)
    body = {
        "status": "not ready" if failed else "ready",
        "failed": failed,
        "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in results.items()},
    }
    return JsonResponse(body, status=503 if failed else 200)
