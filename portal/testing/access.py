"""Test helpers for access rules: grant a role as an admin would in the admin."""

from __future__ import annotations

from rest_framework.test import APIClient

from portal.models import ApiToken, Role, RoleGrant


def grant(role: str = "contributor", *, user=None, name: str = "test rule", **fields) -> RoleGrant:
    """A validated, saved rule; ``user`` makes it a user rule unless ``subject`` says otherwise."""
    if user is not None:
        fields.setdefault("subject", RoleGrant.Subject.USER)
    role_row = Role.builtin_role(role) if role in ("viewer", "contributor", "owner", "platform-admin") else (
        Role.objects.get(slug=role))  # fmt: skip
    rule = RoleGrant(name=name, role=role_row, user=user, **fields)
    rule.full_clean()
    rule.save()
    return rule


def token_client(user, scopes: list[str] | None = None) -> APIClient:
    _, raw = ApiToken.issue(user, name="tests", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
