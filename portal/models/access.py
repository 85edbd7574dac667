"""Roles and the rules that grant them, as data edited in the admin (the engine is portal/access/)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from portal.access import actions, engine

# The four built-in roles: seeded by migration portal/0002, protected from deletion. Their actions may be
# edited (except the platform admin's); these are the defaults, also used when a row is missing.
BUILTIN_ROLES: dict[str, tuple[str, list[str], str]] = {
    "viewer": ("Viewer", [actions.ENTITY_READ], "Reads entities."),
    "contributor": (
        "Contributor",
        [actions.ENTITY_READ, actions.ENTITY_REFRESH, actions.LOCATION_REGISTER, actions.TEMPLATE_RUN],
        "Registers locations, refreshes and runs templates; unregisters and overrides nothing it does not own.",
    ),
    "owner": (
        "Owner",
        [
            actions.ENTITY_READ,
            actions.ENTITY_REFRESH,
            actions.ENTITY_UNREGISTER,
            actions.ENTITY_OVERRIDE,
            actions.TEMPLATE_RUN,
        ],
        "Given automatically on entities owned by the person or their groups; may also be granted.",
    ),
    engine.PLATFORM_ADMIN: ("Platform admin", [actions.ALL], "Everything, everywhere; deny rules do not apply."),
}


def split_values(text: str) -> tuple[str, ...]:
    """``"Component, API"`` → ``("component", "api")``: conditions are compared case-insensitively."""
    return tuple(dict.fromkeys(v.strip().lower() for v in (text or "").split(",") if v.strip()))


def normalize_ref(value: str, default_kind: str = "group") -> str:
    """``payments`` → ``group:default/payments``; ``user:pat`` → ``user:default/pat`` (Backstage's defaults)."""
    value = value.strip().lower()
    if not value:
        return ""
    kind, sep, rest = value.partition(":")
    if not sep:
        kind, rest = default_kind, value
    if "/" not in rest:
        rest = f"default/{rest}"
    return f"{kind}:{rest}"


class Role(models.Model):
    """A named set of actions. Built-in roles cannot be deleted; admins may add their own."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    actions = models.JSONField(default=list, blank=True, help_text="Action names; * for every action")
    builtin = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-builtin", "slug"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def builtin_role(cls, slug: str) -> Role:
        """The built-in role row, created from the defaults if it is missing."""
        name, role_actions, description = BUILTIN_ROLES[slug]
        role, _ = cls.objects.get_or_create(
            slug=slug, defaults={"name": name, "actions": role_actions, "description": description, "builtin": True}
        )
        return role

    def clean(self) -> None:
        unknown = [a for a in self.actions or [] if a != actions.ALL and a not in actions.KNOWN]
        if unknown:
            raise ValidationError({"actions": f"Unknown action(s): {', '.join(unknown)}"})

    def delete(self, *args, **kwargs):
        if self.builtin:
            raise ValidationError(f"The built-in role {self.slug!r} cannot be deleted.")
        return super().delete(*args, **kwargs)


class RoleGrant(models.Model):
    """A rule: grant (or deny) a role to a subject, on targets meeting every condition (empty = any)."""

    class Subject(models.TextChoices):
        USER = engine.USER, "A user"
        GROUP = engine.GROUP, "Members of a catalog group"
        SIGNED_IN = engine.SIGNED_IN, "Everyone signed in"
        ANONYMOUS = engine.ANONYMOUS, "Anonymous visitors (read only)"

    class Effect(models.TextChoices):
        ALLOW = engine.ALLOW, "Allow"
        DENY = engine.DENY, "Deny (wins over allow)"

    name = models.CharField(max_length=120, help_text="A short label, shown in explanations")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    effect = models.CharField(max_length=5, choices=Effect.choices, default=Effect.ALLOW)
    subject = models.CharField(max_length=10, choices=Subject.choices, default=Subject.USER)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="role_grants"
    )
    group_ref = models.CharField(
        max_length=400, blank=True, help_text="e.g. group:default/payments (members of child groups count too)"
    )
    kinds = models.CharField(max_length=500, blank=True, help_text="Comma-separated, e.g. Component, API")
    types = models.CharField(max_length=500, blank=True, help_text="spec.type values, e.g. service, website")
    namespaces = models.CharField(max_length=500, blank=True)
    owners = models.CharField(max_length=1000, blank=True, help_text="Owner refs, e.g. group:default/payments")
    only_owned = models.BooleanField(default=False, help_text="Only entities the person or their groups own")
    enabled = models.BooleanField(default=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "access rule"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.subject == self.Subject.USER and not self.user_id:
            errors["user"] = "Choose the user this rule is for."
        if self.subject == self.Subject.GROUP:
            if not self.group_ref.strip():
                errors["group_ref"] = "Name the group, e.g. group:default/payments."
            else:
                self.group_ref = normalize_ref(self.group_ref)
        if self.subject != self.Subject.USER:
            self.user = None
        if self.subject != self.Subject.GROUP:
            self.group_ref = ""
        self.owners = ", ".join(normalize_ref(o) for o in split_values(self.owners))
        role = self.role if self.role_id else None
        conditioned = any(split_values(v) for v in (self.kinds, self.types, self.namespaces, self.owners))
        if role and role.slug == engine.PLATFORM_ADMIN and self.effect == self.Effect.ALLOW:
            if conditioned or self.only_owned:
                errors["role"] = "Platform admin is granted everywhere: leave the conditions empty."
            if self.subject in (self.Subject.SIGNED_IN, self.Subject.ANONYMOUS):
                errors["subject"] = "Grant platform admin to users or groups, not to everyone."
        if (role and self.subject == self.Subject.ANONYMOUS and self.effect == self.Effect.ALLOW
                and set(role.actions) - {actions.ENTITY_READ}):  # fmt: skip
            errors["role"] = "Anonymous visitors may only be granted reading (the viewer role)."
        if errors:
            raise ValidationError(errors)

    def as_rule(self) -> engine.Rule:
        return engine.Rule(
            id=self.pk,
            name=self.name,
            role=self.role.slug,
            role_name=self.role.name,
            actions=frozenset(self.role.actions or []),
            effect=self.effect,
            subject=self.subject,
            user_id=self.user_id,
            user_label=self.user.get_username() if self.user_id else "",
            group_ref=self.group_ref.lower(),
            kinds=split_values(self.kinds),
            types=split_values(self.types),
            namespaces=split_values(self.namespaces),
            owners=tuple(normalize_ref(o) for o in split_values(self.owners)),
            only_owned=self.only_owned,
        )
