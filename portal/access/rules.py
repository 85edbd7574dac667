"""Where the engine's rules come from: built-in rules from settings, stored rules from the database.

Stored rules are cached (no query per request) under a version bumped whenever a Role or RoleGrant
changes (``portal/signals.py``), so an edit in the admin takes effect at once in that process and within
half a second in the others (``portal/versions.py``).
"""

from __future__ import annotations

from django.conf import settings

from portal.access import actions, engine
from portal.versions import VersionCounter

SUBJECT_ORDER = {engine.USER: 0, engine.GROUP: 1, engine.SIGNED_IN: 2, engine.ANONYMOUS: 3}


VERSION = VersionCounter("access:version")


def access_version() -> int:
    return VERSION.get()


def bump_access_version() -> None:
    VERSION.bump()


def _load() -> tuple[dict[str, tuple[str, frozenset[str]]], list[engine.Rule]]:
    from portal.models.access import BUILTIN_ROLES, Role, RoleGrant

    roles = {slug: (name, frozenset(role_actions)) for slug, (name, role_actions, _) in BUILTIN_ROLES.items()}
    roles.update({r.slug: (r.name, frozenset(r.actions or [])) for r in Role.objects.all()})
    # The platform admin's actions are not editable: it always means everything.
    roles[engine.PLATFORM_ADMIN] = (roles[engine.PLATFORM_ADMIN][0], frozenset({actions.ALL}))
    grants = RoleGrant.objects.filter(enabled=True).select_related("role", "user")
    stored = sorted((g.as_rule() for g in grants), key=lambda r: (SUBJECT_ORDER.get(r.subject, 9), r.id))
    return roles, stored


def _cached() -> tuple[dict[str, tuple[str, frozenset[str]]], list[engine.Rule]]:
    return VERSION.memo("rules", _load)


def builtin_rules(roles: dict[str, tuple[str, frozenset[str]]]) -> list[engine.Rule]:
    """The defaults, from settings: derived ownership, the default role, anonymous read."""
    rules = []

    def rule(name: str, slug: str, **kwargs) -> None:
        if slug in roles:
            role_name, role_actions = roles[slug]
            rules.append(engine.Rule(name=name, role=slug, role_name=role_name, actions=role_actions, **kwargs))

    rule("Owners", "owner", subject=engine.SIGNED_IN, only_owned=True)
    default_role = settings.CALLBOARD_DEFAULT_ROLE
    if default_role and default_role != "none":
        rule(f"Default role ({default_role})", default_role, subject=engine.SIGNED_IN)
    if settings.ANONYMOUS_READ:
        rule("Anonymous read", "viewer", subject=engine.ANONYMOUS)
    return rules


def current_policy() -> engine.Policy:
    roles, stored = _cached()
    return engine.Policy([*stored, *builtin_rules(roles)])
