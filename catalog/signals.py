"""Signal receivers: cached catalog answers follow governance overrides however they are edited."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from catalog.cache import bump_catalog_version
from catalog.models import EntityOverride


def _override_changed(sender, **kwargs) -> None:
    bump_catalog_version()


def connect() -> None:
    post_save.connect(_override_changed, sender=EntityOverride, dispatch_uid="catalog-override-saved")
    post_delete.connect(_override_changed, sender=EntityOverride, dispatch_uid="catalog-override-deleted")
