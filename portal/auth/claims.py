"""What an SSO login tells us about a person, normalised across providers.

The result is a small JSON-safe dict stored on ``portal.Identity.claims`` so identity can be recomputed
after a catalog refresh without asking the IdP again::

    {"provider": "github", "provider_name": "GitHub", "email": "...", "emails": [...], "username": "...",
     "groups": ["team-payments"], "annotations": {"github.com/user-login": "octocat"}}
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

REQUEST_ATTRIBUTE = "_callboard_sso_claims"
MAX_GROUPS = 500
MAX_TEXT = 300
# Where SAML IdPs commonly put group membership, tried in order when an app sets no ``groups_attribute``:
# plain "groups" (Okta, Keycloak, authentik), Entra ID/ADFS, AD-style memberOf, eduPerson isMemberOf.
SAML_GROUP_ATTRIBUTES = (
    "groups",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
    "http://schemas.xmlsoap.org/claims/Group",
    "memberOf",
    "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
)


def _text(value: Any) -> str:
    return value.strip()[:MAX_TEXT] if isinstance(value, str) else ""


def _claim(data: dict, path: str) -> Any:
    """A claim by name; a dotted path reaches into nested objects (``realm_access.roles``)."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def group_names(value: Any) -> list[str]:
    """Group names from a claim (one name or a list): trimmed, without duplicates, at most MAX_GROUPS."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    groups = [_text(item) for item in value if isinstance(item, str) and _text(item)]
    return list(dict.fromkeys(groups))[:MAX_GROUPS]


def _provider_data(sociallogin) -> dict:
    """The provider's user data; OIDC keeps the ID token and userinfo apart, merged here (userinfo wins)."""
    data = sociallogin.account.extra_data or {}
    if "userinfo" in data or "id_token" in data:
        merged = dict(data.get("id_token") or {})
        merged.update(data.get("userinfo") or {})
        return merged
    return data


def _names(value: Any) -> list[str]:
    """A setting holding one attribute name or a list of them (anything else: none)."""
    if isinstance(value, str):
        return [value] if value else []
    return [name for name in value if isinstance(name, str) and name] if isinstance(value, list) else []


def _saml_attributes(data: dict, mapping: dict) -> dict[str, str]:
    """allauth's ``attribute_mapping`` applied to the raw attributes (name -> list of values): first value wins."""
    mapped = {}
    for key, names in mapping.items():
        for name in _names(names):
            values = data.get(name)
            if isinstance(values, list) and values and (value := _text(values[0])):
                mapped[key] = value
                break
    return mapped


def _saml_claims(claims: dict[str, Any], sociallogin, data: dict, provider, app_settings: dict) -> None:
    """SAML: allauth keeps the assertion's attributes as ``{name: [values]}``; names are often URIs."""
    mapping = app_settings.get("attribute_mapping") or getattr(provider, "default_attribute_mapping", {})
    mapped = _saml_attributes(data, mapping if isinstance(mapping, dict) else {})
    # Unmapped: common plain attribute names, then what allauth took (a NameID in emailAddress format).
    fallback = _saml_attributes(data, {"email": ["email", "mail"]}).get("email") or _text(sociallogin.user.email)
    claims["email"] = (mapped.get("email") or fallback or "").lower()
    claims["username"] = mapped.get("username", "")
    annotation, name = app_settings.get("annotation"), app_settings.get("annotation_claim")
    if annotation and name:
        value = mapped.get(str(name)) or _saml_attributes(data, {"value": str(name)}).get("value")
        if value:
            claims["annotations"][str(annotation)[:200]] = value
    for name in _names(app_settings.get("groups_attribute", list(SAML_GROUP_ATTRIBUTES))):
        if isinstance(data.get(name), list):  # the first attribute the IdP sent, even if empty
            claims["groups"] = group_names(data[name])
            break


def claims_from_sociallogin(sociallogin) -> dict[str, Any]:
    provider = sociallogin.account.get_provider()
    app_settings = dict(getattr(getattr(provider, "app", None), "settings", None) or {})
    kind = provider.id if provider.id in ("github", "gitlab", "google", "microsoft", "saml") else "openid_connect"
    data = _provider_data(sociallogin)
    emails = [addr.email.lower() for addr in sociallogin.email_addresses if addr.email and addr.verified]
    email = _text(data.get("email") or data.get("mail") or "").lower()
    claims: dict[str, Any] = {
        "provider": sociallogin.account.provider,
        "provider_kind": kind,
        "provider_name": _text(provider.name),
        "email": email,
        "emails": list(dict.fromkeys(emails))[:20],
        "username": "",
        "groups": [],
        "annotations": {},
    }
    if kind == "saml":
        _saml_claims(claims, sociallogin, data, provider, app_settings)
        return claims
    login = ""
    if kind == "github":
        login = _text(data.get("login"))
    elif kind == "gitlab":
        login = _text(data.get("username"))
    elif kind == "microsoft":
        login = _text(data.get("userPrincipalName"))
    else:
        login = _text(data.get("preferred_username") or data.get("nickname"))
    claims["username"] = login
    if (annotation := settings.IDENTITY_PROVIDER_ANNOTATIONS.get(kind)) and login:
        claims["annotations"][annotation] = login
    annotation, claim = app_settings.get("annotation"), app_settings.get("annotation_claim")
    if annotation and claim and (value := _text(_claim(data, str(claim)))):
        claims["annotations"][str(annotation)[:200]] = value
    groups_claim = app_settings.get("groups_claim", "groups")
    if groups_claim:
        claims["groups"] = group_names(_claim(data, str(groups_claim)))
    return claims


def local_claims(user) -> dict[str, Any]:
    """A password login: only what the account itself knows."""
    return {
        "provider": "local",
        "provider_kind": "local",
        "provider_name": "Password",
        "email": (user.email or "").lower(),
        "emails": [],
        "username": user.get_username(),
        "groups": [],
        "annotations": {},
    }
