"""Root URL configuration: a landing page, the admin, the REST API under /api/v1/, and its schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from adviser.api.views import AdviserViewSet
from contact.api.views import ContactViewSet
from core.landing import landing
from interaction.api.views import InteractionViewSet
from metadata.api.views import VIEWSETS as METADATA_VIEWSETS
from organisation.api.views import OrganisationViewSet

router = DefaultRouter()
router.register("organisations", OrganisationViewSet)
router.register("contacts", ContactViewSet)
router.register("interactions", InteractionViewSet)
router.register("advisers", AdviserViewSet)
for name, viewset in METADATA_VIEWSETS:
    router.register(f"metadata/{name}", viewset, basename=f"metadata-{name}")

urlpatterns = [
    path("", landing, name="landing"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("core.ops.urls")),  # /healthz, /readyz, /metrics
]
