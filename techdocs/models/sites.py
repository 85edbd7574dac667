"""A documented entity's published site: where its docs come from, the last good build and the last try."""

from __future__ import annotations

from django.db import models


class DocSite(models.Model):
    """One row per entity that has (or had) docs. The published files live in the TechDocs storage under
    ``{namespace}/{kind}/{name}/``; this row says which build they came from and how the last attempt went.

    ``source_hash`` is the hash of the docs' own sources (mkdocs config and docs dir) that the published
    site was built from: a refresh whose sources hash the same starts no build.
    """

    class Status(models.TextChoices):
        PENDING = "pending"  # a build is queued or running
        OK = "ok"  # the last attempt published
        FAILED = "failed"  # the last attempt failed; the last good site (if any) is still served
        REFUSED = "refused"  # the repository's docs config was refused before anything ran

    class Origin(models.TextChoices):
        LOCAL = "local"  # built by Callboard's worker
        PUBLISHED = "published"  # published from a team's CI (techdocs publish / the API)

    entity_ref = models.CharField(max_length=400, unique=True, help_text="kind:namespace/name, lower-case")
    namespace = models.CharField(max_length=63)
    kind = models.CharField(max_length=63)
    name = models.CharField(max_length=253)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.LOCAL)
    source = models.CharField(max_length=1000, blank=True, help_text="the resolved docs location")
    source_hash = models.CharField(max_length=64, blank=True, help_text="sources of the published site")
    attempted_hash = models.CharField(max_length=64, blank=True, help_text="sources of the last attempt")
    etag = models.CharField(max_length=128, blank=True, help_text="commit sha of the sources, when known")
    site_name = models.CharField(max_length=300, blank=True)
    site_description = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True, help_text="when the served site was published")
    attempted_at = models.DateTimeField(null=True, blank=True)
    docs_commit_at = models.DateTimeField(null=True, blank=True, help_text="last commit touching the docs")
    code_commit_at = models.DateTimeField(null=True, blank=True, help_text="last commit of the repository")
    error = models.TextField(blank=True, help_text="why the last attempt failed or was refused")
    log = models.TextField(blank=True, help_text="the last attempt's build log")
    file_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["entity_ref"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"docs of {self.entity_ref} [{self.status}]"

    @classmethod
    def for_entity(cls, entity) -> DocSite:
        """The entity's row, made on first use with its lower-cased triplet."""
        site, _ = cls.objects.get_or_create(
            entity_ref=entity.ref,
            defaults={"namespace": entity.namespace.lower(), "kind": entity.kind.lower(), "name": entity.name.lower()},
        )
        return site

    @property
    def published(self) -> bool:
        return self.published_at is not None

    @property
    def docs_lag_days(self) -> int | None:
        """How many days the docs' last change is older than the repository's, when both are known."""
        if self.docs_commit_at is None or self.code_commit_at is None:
            return None
        return max(0, (self.code_commit_at - self.docs_commit_at).days)

    @property
    def stale(self) -> bool:
        """Docs older than the code by ``TECHDOCS_STALE_DAYS`` or more."""
        from django.conf import settings

        lag = self.docs_lag_days
        return lag is not None and lag >= settings.TECHDOCS_STALE_DAYS

    @property
    def prefix(self) -> str:
        """The storage prefix in Backstage's layout (lower-cased triplet)."""
        return f"{self.namespace}/{self.kind}/{self.name}".lower()
