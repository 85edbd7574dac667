"""The root URLconf: mounts each app's routes, allauth and the API docs; nothing else."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from portal.api.access import AccessCheckView, AuthorizeView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/v1/access/check", AccessCheckView.as_view(), name="access-check"),
    path("api/permission/authorize", AuthorizeView.as_view(), name="permission-authorize"),
    path("api/", include("catalog.api.urls")),
    path("", include("catalog.urls")),
]
