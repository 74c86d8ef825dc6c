"""The project's URLs plus the widgets' endpoints (`@pytest.mark.urls("tests.crm_types.urls")`)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from settings.urls import urlpatterns as project_urls

from .api import ReferenceWidgetViewSet, WidgetViewSet

router = DefaultRouter()
router.register("widgets", WidgetViewSet)
router.register("reference-widgets", ReferenceWidgetViewSet)

urlpatterns = [path("api/v1/test/", include(router.urls)), *project_urls]
