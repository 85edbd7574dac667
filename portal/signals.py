"""Cache invalidation inside portal: any change to roles or rules bumps the access version."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from portal.access.rules import bump_access_version


def _bump(sender, **kwargs) -> None:
    bump_access_version()


def connect() -> None:
    from portal.models import Role, RoleGrant

    for model in (Role, RoleGrant):
        post_save.connect(_bump, sender=model, dispatch_uid=f"access-bump-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"access-bump-delete-{model.__name__}")
