"""The landing page at `/`: where the API, its endpoints, its docs and the admin are.

The endpoints are read from the URL configuration (every viewset route that lists), so an
endpoint added to a router shows up here, and in the tests that iterate over them, without
being named anywhere else. A client asking for JSON gets the same links as JSON.
"""

from dataclasses import dataclass

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse

# Pages that are not API endpoints: (URL name, what it is).
PAGES = [
    ("swagger-ui", "Interactive API docs (Swagger UI)"),
    ("redoc", "API reference (Redoc)"),
    ("schema", "OpenAPI schema (YAML; ?format=json for JSON)"),
    ("admin:index", "Admin"),
    ("rest_framework:login", "Sign in to the browsable API"),
    ("healthz", "Health: the process answers"),
    ("readyz", "Readiness: database, CRM and follower"),
]


@dataclass(frozen=True)
class Endpoint:
    """A list endpoint: its path, the viewset that answers it, and what it lists."""

    path: str
    view: type
    description: str


def list_endpoints():
    """Every list route of a viewset in the URL configuration, once each, in declared order."""
    found = {}
    for path, view in _list_routes(get_resolver(), ()):
        found.setdefault(path, Endpoint(path, view, _first_line(view.__doc__)))
    return list(found.values())


def _list_routes(resolver, namespaces):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _list_routes(pattern, (*namespaces, pattern.namespace) if pattern.namespace else namespaces)
        elif (getattr(pattern.callback, "actions", None) or {}).get("get") == "list" and pattern.name:
            try:  # the format-suffix twin of a route has the same name and reverses to the same path
                yield reverse(":".join((*namespaces, pattern.name))), pattern.callback.cls
            except NoReverseMatch:
                continue


def _first_line(text):
    return (text or "").strip().partition("\n")[0]


def _pages():
    pages = []
    for name, description in PAGES:
        try:
            pages.append((reverse(name), description))
        except NoReverseMatch:
            continue
    return pages


def landing(request):
    """Answer `/`: the API root, each list endpoint, the docs, the admin and the sign-in page."""
    endpoints = list_endpoints()
    api_root = _api_root(endpoints)
    pages = _pages()
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        return JsonResponse(
            {
                "api": request.build_absolute_uri(api_root) if api_root else None,
                "endpoints": {e.path: request.build_absolute_uri(e.path) for e in endpoints},
                "pages": {description: request.build_absolute_uri(path) for path, description in pages},
            }
        )
    context = {"api_root": api_root, "endpoints": endpoints, "pages": pages, "user": request.user}
    return render(request, "core/landing.html", context)


def _api_root(endpoints):
    if not endpoints:
        return None
    parts = [e.path.rstrip("/").split("/") for e in endpoints]
    common = parts[0][:-1]
    for other in parts[1:]:
        while other[: len(common)] != common:
            common = common[:-1]
    return "/".join(common) + "/"
