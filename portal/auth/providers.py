"""SSO providers from environment variables, as allauth's ``SOCIALACCOUNT_PROVIDERS``.

Providers can also be added at run time as allauth ``SocialApp`` rows in the Django admin; both kinds show
on the login page. Callboard-specific keys live in each app's ``settings`` (the same keys in the admin's
JSON field): ``groups_claim`` (claim holding IdP groups), ``annotation`` and ``annotation_claim`` (match
the catalog User whose annotation ``annotation`` equals the claim ``annotation_claim``); for GitHub and
GitLab also ``teams`` (ask for the person's teams/groups at sign-in, portal/auth/teams.py) and
``github_url`` / ``gitlab_url`` (GitHub Enterprise Server or self-hosted GitLab for that app).
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured

OIDC_DEFAULT_SCOPES = ["openid", "profile", "email"]


class ProviderConfigError(ImproperlyConfigured):
    """An SSO environment variable that cannot be used, with the variable's name in the message."""


def oidc_app(spec: dict[str, Any], *, where: str) -> dict[str, Any]:
    """One generic OpenID Connect app from a dict with id, name, server_url, client_id, secret, ..."""
    if not isinstance(spec, dict):
        raise ProviderConfigError(f"{where}: expected an object, got {type(spec).__name__}")
    missing = [key for key in ("id", "server_url", "client_id") if not str(spec.get(key) or "").strip()]
    if missing:
        raise ProviderConfigError(f"{where}: missing {', '.join(missing)}")
    provider_id = str(spec["id"]).strip()
    if not provider_id.replace("-", "").replace("_", "").isalnum():
        raise ProviderConfigError(f"{where}: id {provider_id!r} may only hold letters, digits, '-' and '_'")
    server_url = str(spec["server_url"]).strip()
    if not server_url.startswith(("https://", "http://")):
        raise ProviderConfigError(f"{where}: server_url must be an http(s) URL, got {server_url!r}")
    scopes = spec.get("scopes") or OIDC_DEFAULT_SCOPES
    if isinstance(scopes, str):
        scopes = scopes.replace(",", " ").split()
    settings: dict[str, Any] = {
        "server_url": server_url,
        "scope": list(scopes),
        "groups_claim": spec.get("groups_claim", "groups"),
    }
    for key in ("annotation", "annotation_claim", "token_auth_method"):
        if spec.get(key):
            settings[key] = spec[key]
    return {
        "provider_id": provider_id,
        "name": spec.get("name") or provider_id.title(),
        "client_id": str(spec["client_id"]),
        "secret": str(spec.get("secret") or ""),
        "settings": settings,
    }


def oidc_apps(single: dict[str, Any] | None, many_json: str) -> list[dict[str, Any]]:
    """The generic OIDC apps: one from CALLBOARD_OIDC_* plus any from CALLBOARD_OIDC_PROVIDERS (JSON list)."""
    apps = []
    if single and (single.get("server_url") or single.get("client_id")):
        apps.append(oidc_app(single, where="CALLBOARD_OIDC_*"))
    if many_json.strip():
        try:
            many = json.loads(many_json)
        except json.JSONDecodeError as exc:
            raise ProviderConfigError(f"CALLBOARD_OIDC_PROVIDERS is not valid JSON: {exc}") from exc
        if not isinstance(many, list):
            raise ProviderConfigError("CALLBOARD_OIDC_PROVIDERS must be a JSON list of objects")
        apps += [oidc_app(spec, where=f"CALLBOARD_OIDC_PROVIDERS[{i}]") for i, spec in enumerate(many)]
    ids = [app["provider_id"] for app in apps]
    if dupes := sorted({i for i in ids if ids.count(i) > 1}):
        raise ProviderConfigError(f"OIDC provider ids must be unique: {', '.join(dupes)} appear more than once")
    return apps


def saml_available() -> bool:
    """allauth's SAML provider needs python3-saml (and xmlsec's system libraries)."""
    return importlib.util.find_spec("onelogin") is not None and importlib.util.find_spec("xmlsec") is not None


def build_providers(env) -> tuple[dict[str, Any], list[str]]:
    """``(SOCIALACCOUNT_PROVIDERS, extra INSTALLED_APPS)`` from the environment.

    Each provider app is installed only when configured, so the login page lists exactly what works.
    """
    providers: dict[str, Any] = {}
    apps: list[str] = []

    single = {
        "id": env.str("CALLBOARD_OIDC_ID", default="oidc"),
        "name": env.str("CALLBOARD_OIDC_NAME", default="Single sign-on"),
        "server_url": env.str("CALLBOARD_OIDC_SERVER_URL", default=""),
        "client_id": env.str("CALLBOARD_OIDC_CLIENT_ID", default=""),
        "secret": env.str("CALLBOARD_OIDC_CLIENT_SECRET", default=""),
        "scopes": env.str("CALLBOARD_OIDC_SCOPES", default=""),
        "groups_claim": env.str("CALLBOARD_OIDC_GROUPS_CLAIM", default="groups"),
        "annotation": env.str("CALLBOARD_OIDC_ANNOTATION", default=""),
        "annotation_claim": env.str("CALLBOARD_OIDC_ANNOTATION_CLAIM", default=""),
    }
    oidc = oidc_apps(single, env.str("CALLBOARD_OIDC_PROVIDERS", default=""))
    # Always installed: admins may add OIDC apps (Okta, Keycloak, ...) as SocialApp rows at run time.
    apps.append("allauth.socialaccount.providers.openid_connect")
    providers["openid_connect"] = {"OAUTH_PKCE_ENABLED": True, "APPS": oidc}

    # Every variable is read (documented and checked by a test), even when its provider is not configured.
    github_id, github_secret = env.str("GITHUB_CLIENT_ID", default=""), env.str("GITHUB_CLIENT_SECRET", default="")
    github_url = env.str("GITHUB_URL", default="").rstrip("/")
    github_teams = env.bool("CALLBOARD_GITHUB_TEAMS", default=True)
    apps.append("allauth.socialaccount.providers.github")
    providers["github"] = {
        "SCOPE": ["read:user", "user:email", "read:org"],
        # Callboard's subclass reads GITHUB_URL (or an app's github_url) per sign-in, not once at import.
        "provider_class": "portal.auth.github.provider.GitHubProvider",
        "TEAMS": github_teams,
    }
    if github_url and github_url != "https://github.com":
        providers["github"]["GITHUB_URL"] = github_url
    if github_id:
        providers["github"]["APPS"] = [
            {"client_id": github_id, "secret": github_secret, "settings": {}}
        ]

    gitlab_id, gitlab_secret = env.str("GITLAB_CLIENT_ID", default=""), env.str("GITLAB_CLIENT_SECRET", default="")
    apps.append("allauth.socialaccount.providers.gitlab")
    providers["gitlab"] = {
        "SCOPE": ["read_user", "openid", "email"],
        "TEAMS": env.bool("CALLBOARD_GITLAB_GROUPS", default=True),
    }
    if gitlab_url := env.str("GITLAB_URL", default="").rstrip("/"):
        providers["gitlab"]["GITLAB_URL"] = gitlab_url
    if gitlab_id:
        providers["gitlab"]["APPS"] = [
            {"client_id": gitlab_id, "secret": gitlab_secret, "settings": {}}
        ]

    google_id, google_secret = env.str("GOOGLE_CLIENT_ID", default=""), env.str("GOOGLE_CLIENT_SECRET", default="")
    google_domain = env.str("GOOGLE_HOSTED_DOMAIN", default="")
    apps.append("allauth.socialaccount.providers.google")
    providers["google"] = {"SCOPE": ["openid", "profile", "email"], "OAUTH_PKCE_ENABLED": True}
    if google_domain:
        providers["google"]["AUTH_PARAMS"] = {"hd": google_domain}
    if google_id:
        providers["google"]["APPS"] = [{"client_id": google_id, "secret": google_secret, "settings": {}}]

    microsoft_id = env.str("MICROSOFT_CLIENT_ID", default="")
    microsoft_secret = env.str("MICROSOFT_CLIENT_SECRET", default="")
    tenant = env.str("MICROSOFT_TENANT", default="organizations")
    apps.append("allauth.socialaccount.providers.microsoft")
    providers["microsoft"] = {"TENANT": tenant}
    if microsoft_id:
        providers["microsoft"]["APPS"] = [
            {"client_id": microsoft_id, "secret": microsoft_secret, "settings": {"tenant": tenant}}
        ]

    saml_json = env.str("CALLBOARD_SAML_PROVIDERS", default="")
    if saml_json.strip():
        if not saml_available():
            raise ProviderConfigError(
                "CALLBOARD_SAML_PROVIDERS is set but SAML support is not installed: "
                "apt-get install libxmlsec1-dev pkg-config, then pip install 'django-allauth[saml]' (see docs/sso.md)"
            )
        try:
            saml = json.loads(saml_json)
        except json.JSONDecodeError as exc:
            raise ProviderConfigError(f"CALLBOARD_SAML_PROVIDERS is not valid JSON: {exc}") from exc
        if not isinstance(saml, list) or not all(isinstance(item, dict) for item in saml):
            raise ProviderConfigError("CALLBOARD_SAML_PROVIDERS must be a JSON list of allauth SAML app objects")
        apps.append("allauth.socialaccount.providers.saml")
        providers["saml"] = {"APPS": saml}
    return providers, apps
