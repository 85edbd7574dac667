"""Catalog rules: which kinds a location may contribute, edited by platform admins as data."""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.db import models

UNKNOWN_KIND = "<unknown>"


class CatalogRule(models.Model):
    """Allow or deny entities by kind (and optionally spec.type) from locations matching a pattern.

    Rules are checked by ascending priority; the first that matches decides. When none matches the
    entity is allowed, so Backstage files work unchanged (Backstage's default would refuse Users, Groups,
    Systems, Domains, Resources and Templates from registered locations; add deny rules to get that).
    ``kind`` is compared case-insensitively; ``*`` matches every kind and ``<unknown>`` every kind
    Callboard has no schema for.
    """

    class Action(models.TextChoices):
        ALLOW = "allow"
        DENY = "deny"

    priority = models.IntegerField(default=100)
    action = models.CharField(max_length=5, choices=Action.choices, default=Action.DENY)
    kind = models.CharField(max_length=63, help_text="Component, Group, … ; * for any; <unknown> for unknown kinds")
    spec_type = models.CharField(max_length=200, blank=True, help_text="Only entities of this spec.type (optional)")
    location_pattern = models.CharField(
        max_length=1000, blank=True, help_text="Glob on the location target, e.g. *github.com/acme/*; empty = all"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        where = f" from {self.location_pattern}" if self.location_pattern else ""
        of_type = f" (type {self.spec_type})" if self.spec_type else ""
        return f"{self.action} {self.kind}{of_type}{where}"

    def matches(self, *, kind: str, known_kind: bool, spec_type: str, target: str) -> bool:
        wanted = self.kind.strip().lower()
        if wanted == UNKNOWN_KIND:
            if known_kind:
                return False
        elif wanted != "*" and wanted != kind.lower():
            return False
        if self.spec_type and self.spec_type.lower() != (spec_type or "").lower():
            return False
        return not self.location_pattern or fnmatchcase(target.lower(), self.location_pattern.lower())


def refusing_rule(rules: list[CatalogRule], *, kind: str, known_kind: bool, spec_type: str, target: str):
    """The deny rule that refuses this entity, or None when it is allowed."""
    for rule in rules:
        if rule.matches(kind=kind, known_kind=known_kind, spec_type=spec_type, target=target):
            return rule if rule.action == CatalogRule.Action.DENY else None
    return None
