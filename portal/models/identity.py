"""Who a signed-in person is in the catalog, how that was decided, and the rules admins edit for it.

The catalog app computes these (catalog/identity.py); portal only stores them, so everything that asks
"what does this person own?" reads one row.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from portal.auth.mapping import RuleError, RuleSpec, normalize_group_ref, validate_rule


class MatchType(models.TextChoices):
    EXACT = "exact", "Exact name"
    PREFIX = "prefix", "Prefix"
    REGEX = "regex", "Regular expression"


class GroupMappingRule(models.Model):
    """IdP group claim → catalog Group ref. Rules are tried in ``position`` order; the first match wins."""

    position = models.PositiveIntegerField(default=100, help_text="Lower runs first")
    match_type = models.CharField(max_length=10, choices=MatchType.choices, default=MatchType.EXACT)
    pattern = models.CharField(
        max_length=500,
        help_text="The IdP group name (exact), its beginning (prefix) or a Python regular expression that must "
        "match the whole name (regex).",
    )
    target = models.CharField(
        max_length=300,
        help_text="Group ref, e.g. group:default/payments. Placeholders: {match} (the whole IdP group), "
        "{rest} (after the prefix), {1}, {2}… or {name} (regex groups).",
    )
    provider = models.CharField(
        max_length=100, blank=True, help_text="Only for logins through this provider id (blank: every provider)"
    )
    enabled = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.match_type} {self.pattern!r} → {self.target}"

    def clean(self) -> None:
        try:
            validate_rule(self.match_type, self.pattern, self.target)
        except RuleError as exc:
            field = "pattern" if str(exc).startswith("pattern") else "target"
            raise ValidationError({field: str(exc)}) from exc
        if "{" not in self.target:
            self.target = normalize_group_ref(self.target)

    def as_spec(self) -> RuleSpec:
        return RuleSpec(self.match_type, self.pattern, self.target, pk=self.pk, label=str(self))


class IdentityQuerySet(models.QuerySet):
    def needs_review(self):
        return self.filter(needs_review=True)

    def reviewed(self):
        """Unmatched people an admin has looked at and accepted as unmatched."""
        return self.filter(reviewed_at__isnull=False)


class Identity(models.Model):
    """A person's resolved identity: their User entity (or none), groups, and the ownership set."""

    class MatchedBy(models.TextChoices):
        EMAIL = "email", "Email"
        ANNOTATION = "annotation", "Annotation"
        USERNAME = "username", "Username"
        NONE = "", "Not matched"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identity")
    entity_ref = models.CharField(max_length=400, blank=True, help_text="The matched catalog User entity")
    matched_by = models.CharField(max_length=20, choices=MatchedBy.choices, blank=True)
    provider = models.CharField(max_length=100, blank=True, help_text="How the person last signed in")
    claims = models.JSONField(default=dict, blank=True, help_text="What the last sign-in said (no secrets)")
    claim_groups = models.JSONField(default=list, blank=True)
    mapped_group_refs = models.JSONField(default=list, blank=True)
    ownership_refs = models.JSONField(default=list, blank=True, help_text="User entity, groups and parent groups")
    trace = models.JSONField(default=dict, blank=True, help_text="The explanation of the last resolution")
    needs_review = models.BooleanField(default=False, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # "Stays unmatched, that's fine": set by an admin; holds until the person matches a User entity or the
    # email their sign-in carries changes (catalog/identity.py), then the flag can come back.
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.CharField(max_length=150, blank=True)
    reviewed_email = models.CharField(
        max_length=254, blank=True, help_text="The sign-in's email when it was reviewed (lower-cased)"
    )
    review_note = models.CharField(max_length=300, blank=True)

    objects = IdentityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.user} → {self.entity_ref or 'unmatched'}"


class LoginEvent(models.Model):
    """One sign-in and what identity resolution made of it (the admin's login explainer)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    provider = models.CharField(max_length=100, blank=True)
    provider_name = models.CharField(max_length=200, blank=True)
    entity_ref = models.CharField(max_length=400, blank=True)
    matched_by = models.CharField(max_length=20, blank=True)
    needs_review = models.BooleanField(default=False)
    claims = models.JSONField(default=dict, blank=True)
    trace = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user} via {self.provider or 'password'} at {self.at:%Y-%m-%d %H:%M}"
