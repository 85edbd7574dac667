"""allauth adapters: who may sign up, and handing an SSO login's claims to identity resolution."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings

from portal.auth.claims import REQUEST_ATTRIBUTE, claims_from_sociallogin
from portal.auth.teams import add_team_groups, lookup_teams


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP and settings.LOCAL_LOGIN


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
