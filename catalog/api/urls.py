"""API routes: Backstage-compatible under /api/catalog/, native under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from catalog.api import views

router = DefaultRouter()
router.register("entities", views.EntityViewSet, basename="entity")
router.register("locations", views.LocationViewSet, basename="location")
router.register("errors", views.ProcessingErrorViewSet, basename="processing-error")

urlpatterns = [
    path("catalog/", include(("catalog.api.backstage.urls", "catalog-backstage"))),
    path("v1/catalog/", include((router.urls, "catalog-api"))),
]
