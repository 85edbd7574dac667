"""The root URLconf: mounts each app's routes, allauth, the API docs and the token pages; nothing else."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from portal import views
from portal.api.access import AccessCheckView, AuthorizeView

token_patterns = [
    path("", views.token_list, name="tokens"),
    path("<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]

urlpatterns = [
    # The admin signs in through allauth's login page, so one rate limit and one SSO path apply.
    path("admin/login/", views.admin_login, name="admin_login_redirect"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("accounts/tokens/", include((token_patterns, "portal"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its init script from a URL, so the Content-Security-Policy needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="portal/redoc.html"),
        name="api-redoc",
    ),
    path("api/v1/access/check", AccessCheckView.as_view(), name="access-check"),
    path("api/permission/authorize", AuthorizeView.as_view(), name="permission-authorize"),
    path("api/techdocs/", include("techdocs.api.urls")),
    path("api/scaffolder/v2/", include("scaffolder.api.urls")),
    path("api/scorecards/", include("scorecards.api.urls")),
    path("api/", include("catalog.api.urls")),
    path("create/", include("scaffolder.urls")),
    path("", include("techdocs.urls")),
    path("", include("catalog.urls")),
]
