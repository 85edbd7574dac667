"""Sign-in glue: the Django admin signs in through allauth, so rate limits and SSO apply there too."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from portal.redirects import safe_next


@login_not_required
def admin_login(request):
    target = safe_next(request, default=reverse("admin:index"))
    if request.user.is_authenticated:
        # Signed in but the admin sent them here: they are not staff. Saying so beats a redirect loop.
        raise PermissionDenied("Your account has no access to the admin site.")
    return redirect_to_login(target, login_url=reverse("account_login"))
