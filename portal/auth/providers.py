"""SSO providers from environment variables, as allauth's ``SOCIALACCOUNT_PROVIDERS``.

Providers can also be added at run time as allauth ``SocialApp`` rows in the Django admin; both kinds show
on the login page. Callboard-specific keys live in each app's ``settings`` (the same keys in the admin's
JSON field): ``groups_claim`` (OIDC claim holding IdP groups) or ``groups_attribute`` (SAML attribute(s)
holding them), ``annotation`` and ``annotation_claim`` (match the catalog User whose annotation
``annotation`` equals the claim or attribute ``annotation_claim``); for GitHub and GitLab also ``teams``
(ask for the person's teams/groups at sign-in, portal/auth/teams.py) and ``github_url`` / ``gitlab_url``
(GitHub Enterprise Server or self-hosted GitLab for that app).
"""

from __future__ import annotations

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
        many = _json_list("CALLBOARD_OIDC_PROVIDERS", many_json, "objects")
        apps += [oidc_app(spec, where=f"CALLBOARD_OIDC_PROVIDERS[{i}]") for i, spec in enumerate(many)]
    _unique("OIDC provider ids", [app["provider_id"] for app in apps])
    return apps


def _json_list(variable: str, value: str, of: str) -> list:
    try:
        many = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ProviderConfigError(f"{variable} is not valid JSON: {exc}") from exc
    if not isinstance(many, list):
        raise ProviderConfigError(f"{variable} must be a JSON list of {of}")
    return many


def _unique(what: str, values: list[str]) -> None:
    if dupes := sorted({v for v in values if values.count(v) > 1}):
        raise ProviderConfigError(f"{what} must be unique: {', '.join(dupes)} appear more than once")


def saml_unavailable_reason() -> str:
    """Why allauth's SAML provider cannot run here, or "" when it can.

    python3-saml needs ``xmlsec``, whose import also checks that lxml was built against the same libxml2
    (the pinned wheels in requirements.txt are); a mismatch raises at import, so this imports for real.
    """
    try:
        import xmlsec  # noqa: F401
        from onelogin.saml2.auth import OneLogin_Saml2_Auth  # noqa: F401
    except ImportError as exc:
        return f"python3-saml/xmlsec are not installed ({exc})"
    except Exception as exc:  # xmlsec.InternalError: "lxml & xmlsec libxml2 library version mismatch"
        return f"xmlsec cannot load: {exc}"
    return ""


def saml_available() -> bool:
    return not saml_unavailable_reason()


def saml_app(spec: dict[str, Any], *, where: str) -> dict[str, Any]:
    """One allauth SAML app (provider_id, name, client_id, settings{idp, attribute_mapping, ...}), checked."""
    if not isinstance(spec, dict):
        raise ProviderConfigError(f"{where}: expected an object, got {type(spec).__name__}")
    client_id = str(spec.get("client_id") or "").strip()
    if not client_id or not client_id.replace("-", "").replace("_", "").isalnum():
        raise ProviderConfigError(
            f"{where}: client_id (the URL slug of /accounts/saml/<client_id>/) is required and may only hold "
            "letters, digits, '-' and '_'"
        )
    settings = spec.get("settings")
    if not isinstance(settings, dict) or not isinstance(settings.get("idp"), dict):
        raise ProviderConfigError(
            f"{where}: settings.idp is required (entity_id and metadata_url, or sso_url and x509cert)"
        )
    idp = settings["idp"]
    if not idp.get("entity_id"):
        raise ProviderConfigError(f"{where}: settings.idp.entity_id is required")
    if not idp.get("metadata_url") and not (idp.get("sso_url") and idp.get("x509cert")):
        raise ProviderConfigError(f"{where}: settings.idp needs metadata_url, or both sso_url and x509cert")
    groups = settings.get("groups_attribute")
    if groups is not None and not (
        isinstance(groups, str) or (isinstance(groups, list) and all(isinstance(g, str) for g in groups))
    ):
        raise ProviderConfigError(f"{where}: settings.groups_attribute must be a string or a list of strings")
    return {**spec, "client_id": client_id, "provider_id": str(spec.get("provider_id") or client_id)}


def saml_apps(many_json: str) -> list[dict[str, Any]]:
    """The SAML apps of CALLBOARD_SAML_PROVIDERS (a JSON list)."""
    many = _json_list("CALLBOARD_SAML_PROVIDERS", many_json, "allauth SAML app objects")
    apps = [saml_app(spec, where=f"CALLBOARD_SAML_PROVIDERS[{i}]") for i, spec in enumerate(many)]
    _unique("SAML client_ids", [app["client_id"] for app in apps])
    _unique("SAML provider ids", [app["provider_id"] for app in apps])
    return apps


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
    if reason := saml_unavailable_reason():
        if saml_json.strip():
            raise ProviderConfigError(
                f"CALLBOARD_SAML_PROVIDERS is set but SAML support cannot run: {reason}. "
                "pip install -r requirements.txt installs it from wheels; where no wheel fits, build lxml and xmlsec "
                "against the system's libxml2 and libxmlsec1-dev (docs/sso.md, 'Where no wheel fits')"
            )
    else:
        # Installed whenever it can run: admins may add SAML apps as SocialApp rows at run time too.
        apps.append("allauth.socialaccount.providers.saml")
        providers["saml"] = {"APPS": saml_apps(saml_json) if saml_json.strip() else []}
    return providers, apps
