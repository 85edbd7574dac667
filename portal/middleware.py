"""Login required for every page, with the two exceptions the portal needs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware

from portal.health import health_response

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class PortalLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, except that

    - ``/api/`` answers 401/403 through DRF's own authentication instead of redirecting to a login page;
    - with ``CALLBOARD_ANONYMOUS_READ`` on, anonymous visitors may read (GET) portal pages, not the admin.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        if settings.ANONYMOUS_READ and request.method in SAFE_METHODS and not request.path_info.startswith("/admin/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class HealthCheckMiddleware:
    """Answer ``/healthz`` before the host check, so load balancers may probe by IP address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz" and request.method in ("GET", "HEAD"):
            return health_response(strict=bool(request.GET.get("strict")))
        return self.get_response(request)


class AuditContextMiddleware:
    """Bind each request to the audit log's context, so events know who acted and from which address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from portal import audit

        token = audit.bind_request(request)
        try:
            return self.get_response(request)
        finally:
            audit.unbind(token)


class ContentSecurityPolicyMiddleware:
    """Send ``settings.CONTENT_SECURITY_POLICY`` (CALLBOARD_CSP) unless a view set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
