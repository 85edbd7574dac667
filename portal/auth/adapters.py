"""allauth adapters: who may sign up, and handing an SSO login's claims to identity resolution."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError

from portal import audit
from portal.auth.claims import REQUEST_ATTRIBUTE, claims_from_sociallogin
from portal.auth.teams import add_team_groups, lookup_teams


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP and settings.LOCAL_LOGIN

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # allauth's mails (e.g. "no account with this email" after a password reset) offer a sign-up
        # link; ours show it only when sign-up is open. Mails render without context processors.
        context = {"signup_open": self.is_open_for_signup(self.request), **context}
        super().send_mail(template_prefix, email, context)

    def pre_authenticate(self, request, **credentials) -> None:
        # allauth refuses here, before any password check, once the failed-sign-in limit is reached; the
        # refusal is audited (wrong passwords are, through Django's user_login_failed in portal.audit).
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            audit.sign_in_failed(request, "auth.login_rate_limited", login=audit.attempted_login(credentials))
            raise


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        # Self sign-up of local accounts is separate: whoever the IdP lets in gets an account (no lock-out).
        return settings.SSO_AUTO_SIGNUP

    def pre_social_login(self, request, sociallogin) -> None:
        # The login signal fires later in this request; identity resolution reads the claims from here.
        # GitHub/GitLab: their teams join the groups (a failed lookup is recorded, never raised).
        claims = add_team_groups(claims_from_sociallogin(sociallogin), lookup_teams(sociallogin))
        setattr(request, REQUEST_ATTRIBUTE, claims)
        super().pre_social_login(request, sociallogin)

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None) -> None:
        # An SSO callback that failed (cancelled, denied, bad state, token exchange refused): provider and
        # allauth's error code, plus the exception's class (its message may quote the IdP's response).
        details = {"error": str(error or "unknown")}
        if exception is not None:
            details["exception"] = type(exception).__name__
        audit.sign_in_failed(request, "auth.sso_failed", provider=getattr(provider, "sub_id", str(provider)), **details)
        super().on_authentication_error(request, provider, error, exception, extra_context)
