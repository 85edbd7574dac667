"""Scorecard definitions, current results (written only when they change) and their history."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from scorecards.kind import API_VERSION, KIND


class Scorecard(models.Model):
    """One definition. ``catalog`` ones mirror a ``kind: Scorecard`` entity (read-only here); ``admin`` ones
    are written in the Django admin. ``spec`` is the contract's ``spec`` exactly."""

    class Source(models.TextChoices):
        CATALOG = "catalog", "Catalog (YAML in a location)"
        ADMIN = "admin", "Django admin"

    ref = models.CharField(max_length=400, unique=True, editable=False, help_text="scorecard:namespace/name")
    namespace = models.CharField(max_length=63, default="default")
    name = models.CharField(max_length=253)
    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ADMIN, editable=False)
    spec = models.JSONField(help_text="owner, appliesTo, levels (lowest first) and rules, as in the YAML")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ref"]

    def __str__(self) -> str:
        return self.title or self.name

    def save(self, *args, **kwargs) -> None:
        self.ref = f"scorecard:{self.namespace}/{self.name}".lower()
        super().save(*args, **kwargs)

    @property
    def levels(self) -> list[str]:
        return list(self.spec.get("levels") or [])

    @property
    def rules(self) -> list[dict]:
        return list(self.spec.get("rules") or [])

    def as_document(self) -> dict:
        metadata = {"name": self.name, "namespace": self.namespace}
        if self.title:
            metadata["title"] = self.title
        if self.description:
            metadata["description"] = self.description
        return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": self.spec}

    def clean(self) -> None:
        """The catalog's own checks (schema, levels, rule ids, every expression compiles) on ``spec``."""
        from scorecards.kind import spec_errors

        self.ref = f"scorecard:{self.namespace}/{self.name}".lower()
        if Scorecard.objects.filter(ref=self.ref).exclude(pk=self.pk).exists():
            raise ValidationError({"name": f"{self.ref} already exists"})
        errors = [f"{field}: {message}" if not message.startswith(field) else message
                  for field, _, message in spec_errors(self.as_document())]  # fmt: skip
        if errors:
            raise ValidationError({"spec": errors})


class Status(models.TextChoices):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    EXEMPT = "exempt"


class RuleResult(models.Model):
    """The current result of one rule for one entity; rewritten only when its status or reason changes."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="results")
    entity_ref = models.CharField(max_length=400)
    rule_id = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(help_text="When the evaluation that found this result ran")
    data_at = models.DateTimeField(null=True, blank=True, help_text="When the facts it read were collected")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity_ref", "scorecard", "rule_id"], name="unique_rule_result")
        ]

    def __str__(self) -> str:
        return f"{self.entity_ref} {self.rule_id}: {self.status}"


class EntityScore(models.Model):
    """The level one entity reached on one scorecard, with points; rewritten only when it changes."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="scores")
    entity_ref = models.CharField(max_length=400)
    level = models.CharField(max_length=100, blank=True, help_text="Highest level reached; blank: none")
    passed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField()
    data_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity_ref", "scorecard"], name="unique_entity_score")]

    def __str__(self) -> str:
        return f"{self.entity_ref} on {self.scorecard_id}: {self.level or 'no level'}"


class Transition(models.Model):
    """History: a rule's status changed (``rule_id`` set) or the level changed (``rule_id`` blank).

    ``before`` is blank for the first result. Rows are only added, so "level as of a date" is the last row
    at or before that date.
    """

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="transitions")
    entity_ref = models.CharField(max_length=400)
    rule_id = models.CharField(max_length=100, blank=True)
    before = models.CharField(max_length=100, blank=True)
    after = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(help_text="When the evaluation ran")
    data_at = models.DateTimeField(null=True, blank=True, help_text="When the facts it read were collected")

    class Meta:
        indexes = [models.Index(fields=["entity_ref", "at"]), models.Index(fields=["scorecard", "at"])]

    def __str__(self) -> str:
        return f"{self.entity_ref} {self.rule_id or 'level'}: {self.before or '-'} -> {self.after or '-'}"


class Exemption(models.Model):
    """One rule waived for one entity: requested with a reason, counted only once approved and until it expires.

    An exempt rule's result is ``exempt`` (it counts as passing) whatever its expression gives.
    """

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="exemptions")
    entity_ref = models.CharField(max_length=400, help_text="kind:namespace/name")
    rule_id = models.CharField(max_length=100)
    reason = models.TextField()
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Blank: until withdrawn")
    denied_by = models.CharField(max_length=150, blank=True)
    denied_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, help_text="Why it was approved or denied (shown to the requester)")

    class Meta:
        indexes = [models.Index(fields=["entity_ref"])]

    def __str__(self) -> str:
        return f"{self.entity_ref} exempt from {self.rule_id}"

    def clean(self) -> None:
        self.entity_ref = self.entity_ref.strip().lower()
        if self.scorecard_id and self.rule_id not in {r.get("id") for r in self.scorecard.rules}:
            raise ValidationError({"rule_id": f'"{self.rule_id}" is not a rule of {self.scorecard.ref}'})

    @property
    def state(self) -> str:
        """``pending``, ``approved``, ``denied`` or ``expired``."""
        from django.utils import timezone

        if self.denied_at is not None:
            return "denied"
        if self.approved_at is None:
            return "pending"
        return "approved" if self.active_at(timezone.now()) else "expired"

    @property
    def tab_url(self) -> str:
        from scorecards.report import scorecards_tab

        return scorecards_tab(self.entity_ref)

    def active_at(self, when) -> bool:
        return self.approved_at is not None and (self.expires_at is None or self.expires_at > when)

    def describe(self) -> str:
        until = f" until {self.expires_at:%Y-%m-%d}" if self.expires_at else ""
        return f"exempt{until}, approved by {self.approved_by}: {self.reason}"


class Initiative(models.Model):
    """A push to get entities to a target by a deadline: a level of a scorecard, or a set of its rules.

    ``applies_to`` (CEL, blank: every entity the scorecard applies to) narrows the scope. Progress is computed
    from the current results and the :class:`Transition` history (scorecards/initiatives.py), never stored.
    ``catalog`` ones mirror a ``kind: Initiative`` entity; ``admin`` ones are written in the admin or the API.
    """

    class Source(models.TextChoices):
        CATALOG = "catalog", "Catalog (YAML in a location)"
        ADMIN = "admin", "Django admin or API"

    slug = models.SlugField(max_length=200, unique=True, help_text="In its URL: /scorecards/initiatives/<slug>/")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="initiatives")
    target_level = models.CharField(max_length=100, blank=True, help_text="Reach this level (or a higher one)")
    rule_ids = models.JSONField(default=list, blank=True, help_text="Or: pass these rules (ids of the scorecard)")
    applies_to = models.TextField(blank=True, help_text="CEL over the entity; blank: all the scorecard applies to")
    owner = models.CharField(max_length=400, help_text="Who drives it: an entity ref such as group:default/platform")
    starts_at = models.DateTimeField(help_text="Where the burn-up starts")
    deadline = models.DateField(help_text="Entities should meet the target by the end of this day (UTC)")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ADMIN, editable=False)
    entity_ref = models.CharField(max_length=400, blank=True, editable=False, help_text="The catalog entity")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deadline", "slug"]

    def __str__(self) -> str:
        return self.title

    @property
    def target_label(self) -> str:
        if self.target_level:
            return f"{self.target_level} on {self.scorecard}"
        return f"{', '.join(self.rule_ids)} passing on {self.scorecard}"

    def clean(self) -> None:
        from scorecards.initiatives import target_errors

        errors = target_errors(self.scorecard if self.scorecard_id else None, self.target_level, self.rule_ids,
                               self.applies_to)  # fmt: skip
        self.owner = self.owner.strip().lower()
        if errors:
            raise ValidationError(errors)


class Fact(models.Model):
    """One fact a collector read about one entity (``scorecards.collect``), written only when it changes.

    ``commit`` is the repository commit it was read at ("" for collectors that read no repository);
    ``collected_at`` when it was read. Key ``error`` holds a collector's failure (``{"message": …}``).
    """

    entity_ref = models.CharField(max_length=400)
    collector = models.CharField(max_length=100)
    key = models.CharField(max_length=300)
    value = models.JSONField(null=True)
    commit = models.CharField(max_length=64, blank=True)
    collected_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity_ref", "collector", "key"], name="unique_fact")]

    def __str__(self) -> str:
        return f"{self.entity_ref} {self.collector}:{self.key}"
