"""Cache invalidation inside portal: roles and rules bump the access version, users and tokens theirs."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save

from portal.access.rules import bump_access_version
from portal.api.authentication import TOKENS
from portal.auth.backends import USERS


def _bump(sender, **kwargs) -> None:
    bump_access_version()


def _bump_users(sender, **kwargs) -> None:
    USERS.bump()


def _bump_tokens(sender, **kwargs) -> None:
    TOKENS.bump()


def connect() -> None:
    from portal.models import ApiToken, Role, RoleGrant

    post_save.connect(_bump_tokens, sender=ApiToken, dispatch_uid="tokens-bump-save")
    post_delete.connect(_bump_tokens, sender=ApiToken, dispatch_uid="tokens-bump-delete")

    for model in (Role, RoleGrant):
        post_save.connect(_bump, sender=model, dispatch_uid=f"access-bump-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"access-bump-delete-{model.__name__}")
    user_model = get_user_model()
    post_save.connect(_bump_users, sender=user_model, dispatch_uid="users-bump-save")
    post_delete.connect(_bump_users, sender=user_model, dispatch_uid="users-bump-delete")
    for through in (user_model.groups.through, user_model.user_permissions.through):
        m2m_changed.connect(_bump_users, sender=through, dispatch_uid=f"users-bump-{through.__name__}")
