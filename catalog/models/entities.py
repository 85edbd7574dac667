"""Entities as the catalog serves them, their search rows, admin overrides and stars."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse

from catalog.ingestion.refs import RefError, verified_owner_ref
from catalog.querysets import EntityQuerySet

_DOT_SEGMENTS = {".": "%2E", "..": "%2E%2E"}


def entity_path(namespace: str, kind: str, name: str, view: str = "entity", *args: str) -> str:
    """The path of an entity's page, or of another of its views (``entity_tab`` with the tab's slug,
    ``entity_star``...); the one place that knows their shape.

    "" when no path can name the entity: a part with a ``/`` (ingestion refuses those since refs are
    validated, but rows stored earlier may hold one). Callers show such an entity as text, not a link.
    """
    try:
        path = reverse(f"catalog:{view}", args=[namespace.lower(), kind.lower(), name, *args])
    except NoReverseMatch:
        return ""
    # A browser resolves "." and ".." segments before it asks; escaped, they reach the view as they are.
    return "/".join(_DOT_SEGMENTS.get(segment, segment) for segment in path.split("/"))


class Entity(models.Model):
    """One catalog entity, stored as processed (placeholders resolved, defaults filled).

    Columns beside ``body`` are denormalised copies for fast lists and facets. ``valid`` is False for an
    entity that has never processed cleanly: Backstage hides those; Callboard shows them with their errors.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A constraint, not unique=True: on PostgreSQL that would add a second (LIKE) index on ref.
    ref = models.CharField(max_length=400, help_text="kind:namespace/name, lower-case")
    kind = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63, default="default")
    name = models.CharField(max_length=253)
    api_version = models.CharField(max_length=253)
    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    spec_type = models.CharField(max_length=200, blank=True)
    lifecycle = models.CharField(max_length=200, blank=True)
    owner_ref = models.CharField(max_length=400, blank=True)
    system_ref = models.CharField(max_length=400, blank=True)
    tags = models.JSONField(default=list, blank=True)
    body = models.JSONField(help_text="apiVersion, kind, metadata and spec as processed")
    etag = models.CharField(max_length=40)
    content_hash = models.CharField(max_length=40)
    generation = models.PositiveIntegerField(default=1)
    known_kind = models.BooleanField(default=True)
    valid = models.BooleanField(default=True)
    error_count = models.PositiveIntegerField(default=0)
    location = models.ForeignKey(
        "catalog.Location", on_delete=models.CASCADE, related_name="entities", null=True, blank=True
    )
    source_file = models.CharField(max_length=1000, blank=True, help_text="managed-by-location ref")
    orphaned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "entities"
        ordering = ["ref"]
        constraints = [models.UniqueConstraint(fields=["ref"], name="unique_entity_ref")]
        # Few, narrow indexes: each costs every refresh a write per row. No single-column kind index (the
        # pair below leads with kind) and no PostgreSQL LIKE twins (nothing filters these by prefix).
        indexes = [
            models.Index(fields=["kind", "spec_type"]),
            models.Index(fields=["owner_ref"], name="entity_owner_idx"),
            models.Index(fields=["error_count"], condition=models.Q(error_count__gt=0), name="entity_with_errors_idx"),
            models.Index(
                fields=["orphaned_at"], condition=models.Q(orphaned_at__isnull=False), name="entity_orphan_idx"
            ),
            models.Index(fields=["namespace", "name"]),
            # Covers walks in ref order that count or facet the listing columns without reading bodies.
            models.Index(
                fields=["ref", "kind", "namespace", "spec_type", "lifecycle", "owner_ref"], name="entity_listing_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.ref

    def get_absolute_url(self) -> str:
        """The entity page's path, or "" if it cannot have one (see :func:`entity_path`)."""
        return entity_path(self.namespace, self.kind, self.name)

    @property
    def display_name(self) -> str:
        return self.title or self.name

    @property
    def metadata(self) -> dict:
        return self.body.get("metadata", {})

    @property
    def spec(self) -> dict:
        return self.body.get("spec") or {}

    @property
    def annotations(self) -> dict:
        return self.metadata.get("annotations") or {}

    @property
    def is_orphan(self) -> bool:
        return self.orphaned_at is not None


class SearchRow(models.Model):
    """Backstage's flattened (key, value) rows, lower-cased, used by ``filter=`` and facets."""

    # No database constraint: rows are written and deleted only with their entity (catalog/ingestion/
    # writer.py; Django's delete cascades), and checking ~25 rows per entity at commit was a third of the
    # database's ingest work (docs/adr/0003).
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="search_rows", db_constraint=False)
    key = models.CharField(max_length=200)
    value = models.CharField(max_length=200, null=True)  # noqa: DJ001 - Backstage stores long values as null

    # The (key, value) index differs per database and is created by migration 0004 (it explains why); the
    # foreign key's own index serves per-entity probes and deletes.

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class EntityOverride(models.Model):
    """Governance set by platform admins, kept apart from git content so every sync leaves it alone."""

    entity_ref = models.CharField(max_length=400, unique=True)
    verified_owner = models.CharField(max_length=400, blank=True, help_text="Owner ref confirmed by an admin")
    deprecation_note = models.TextField(blank=True)
    extra_tags = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return f"override for {self.entity_ref}"

    def clean(self) -> None:
        """``verified_owner`` as a canonical owner ref (``payments`` → ``group:<namespace>/payments``)."""
        try:
            self.verified_owner = verified_owner_ref(self.verified_owner, of=self.entity_ref)
        except RefError as exc:
            raise ValidationError({"verified_owner": str(exc)}) from exc

    def as_dict(self) -> dict:
        data = {
            "verifiedOwner": self.verified_owner,
            "deprecationNote": self.deprecation_note,
            "extraTags": self.extra_tags,
            "note": self.note,
        }
        return {key: value for key, value in data.items() if value}


class Star(models.Model):
    """A user's starred entity, kept by ref so it survives re-registration."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stars")
    entity_ref = models.CharField(max_length=400)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "entity_ref"], name="unique_star")]

    def __str__(self) -> str:
        return f"{self.user} ★ {self.entity_ref}"
