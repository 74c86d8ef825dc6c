"""`/metrics` in the Prometheus text format, for staff only.

With PROMETHEUS_MULTIPROC_DIR set, the values come from the files every process of the service
writes there (prometheus-client's multiprocess mode), so web and worker processes add up;
without it, from this process's registry. Scrape-time collectors named by installed apps
(`metrics_collectors` in an app config: dotted paths of collector classes) are added to each
answer, in the classic text format (version 0.0.4) that every Prometheus server reads.
A scraper authenticates with the API token of a staff user (`Authorization: Token ...`);
a person with a staff session in the browser.
"""

import os

from django.apps import apps
from django.http import HttpResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


def process_registry():
    """Return the registry of every process (multiprocess mode) or of this one."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)
    return registry


def scrape_registry():
    """Return a registry of the scrape-time collectors that installed apps name."""
    registry = CollectorRegistry(auto_describe=True)
    for config in apps.get_app_configs():
        for path in getattr(config, "metrics_collectors", ()):
            registry.register(import_string(path)())
    return registry


def _user(request):
    if request.user.is_authenticated:
        return request.user
    try:
        found = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else None


@never_cache
@require_GET
def metrics(request):
    """Answer the metrics to a staff user; 401 to anyone unauthenticated, 403 to non-staff."""
    user = _user(request)
    if user is None:
        response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Token realm="metrics"'
        return response
    if not user.is_staff:
        return HttpResponse("Staff only.\n", status=403, content_type="text/plain")
    body = generate_latest(process_registry()) + generate_latest(scrape_registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
