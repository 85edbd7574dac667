"""Signal receivers, so derived data follows its sources however they are edited (admin, shell, fixtures):
cached catalog answers follow governance overrides, people's groups follow the group mapping rules."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from catalog import identity
from catalog.cache import bump_catalog_version
from catalog.models import EntityOverride
from portal.models import GroupMappingRule


def _override_changed(sender, **kwargs) -> None:
    bump_catalog_version()


def _mapping_rule_changed(sender, **kwargs) -> None:
    identity.schedule_refresh_identities()  # a burst of edits (a bulk delete) queues one recompute


def connect() -> None:
    post_save.connect(_override_changed, sender=EntityOverride, dispatch_uid="catalog-override-saved")
    post_delete.connect(_override_changed, sender=EntityOverride, dispatch_uid="catalog-override-deleted")
    post_save.connect(_mapping_rule_changed, sender=GroupMappingRule, dispatch_uid="catalog-mapping-rule-saved")
    post_delete.connect(_mapping_rule_changed, sender=GroupMappingRule, dispatch_uid="catalog-mapping-rule-deleted")
