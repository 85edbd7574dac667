"""The policy engine: rules as data in, decisions (with the rule that decided) and SQL filters out.

It knows nothing about the catalog. A *target* is described by attributes (kind, type, namespace, owner
ref, ref); a *subject* is a Django user plus their identity refs (their User entity, groups and parent
groups, supplied through ``portal.access.hooks``). Rules come from the database (``portal.models.access``)
and from settings (the built-in defaults), and are all the same ``Rule`` here.

Semantics:
- A rule grants (or, with effect "deny", takes away) its role's actions, to its subject, on targets that
  meet all its conditions. An empty condition matches anything.
- Deny wins: if any applicable deny rule matches, the answer is no.
- Nothing grants by default except the built-in rules (default role, derived owner, anonymous read).
- Django superusers and holders of the platform-admin role may do everything; deny rules do not apply to them.
- Actions without a target entity (registering a location, admin) are granted only by rules without
  entity conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Q

from portal.access import actions, hooks

# Who a rule is for.
USER = "user"
GROUP = "group"
SIGNED_IN = "signed_in"
ANONYMOUS = "anonymous"

ALLOW = "allow"
DENY = "deny"

PLATFORM_ADMIN = "platform-admin"

FieldMap = Mapping[str, "str | Callable[[list[str]], Q]"]


@dataclass(frozen=True)
class Target:
    """What an action is done to, as attributes (lower-cased); ``ref`` names it in explanations."""

    kind: str = ""
    type: str = ""
    namespace: str = ""
    owner: str = ""
    ref: str = ""

    def __post_init__(self) -> None:
        for name in ("kind", "type", "namespace", "owner", "ref"):
            object.__setattr__(self, name, (getattr(self, name) or "").lower())


class Subject:
    """A person (or an anonymous visitor) and, computed only when a rule needs them, their identity refs."""

    def __init__(self, user, refs: Iterable[str] | None = None) -> None:
        self.user = user
        self._refs = None if refs is None else frozenset(r.lower() for r in refs)

    @property
    def refs(self) -> frozenset[str]:
        if self._refs is None:
            self._refs = frozenset(hooks.identity_refs(self.user))
        return self._refs

    @property
    def is_authenticated(self) -> bool:
        return bool(self.user and self.user.is_authenticated)

    @property
    def is_superuser(self) -> bool:
        return bool(self.is_authenticated and self.user.is_active and self.user.is_superuser)

    @property
    def user_id(self):
        return self.user.pk if self.is_authenticated else None

    @property
    def label(self) -> str:
        return self.user.get_username() if self.is_authenticated else "an anonymous visitor"


def _quote(values: Sequence[str]) -> str:
    return ", ".join(values)


@dataclass(frozen=True)
class Rule:
    """One grant or denial: a role's actions, for a subject, on targets meeting every condition."""

    name: str
    role: str
    role_name: str
    actions: frozenset[str]
    effect: str = ALLOW
    subject: str = SIGNED_IN
    user_id: int | None = None
    user_label: str = ""
    group_ref: str = ""
    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    only_owned: bool = False
    id: int | None = None  # None for built-in rules (settings), the RoleGrant's pk otherwise

    @property
    def conditions(self) -> dict[str, tuple[str, ...]]:
        found = {"kind": self.kinds, "type": self.types, "namespace": self.namespaces, "owner": self.owners}
        return {name: values for name, values in found.items() if values}

    @property
    def conditioned(self) -> bool:
        return bool(self.conditions) or self.only_owned

    @property
    def needs_refs(self) -> bool:
        return self.subject == GROUP or self.only_owned

    @property
    def is_platform_admin(self) -> bool:
        return self.role == PLATFORM_ADMIN and self.effect == ALLOW and not self.conditioned

    def covers(self, action: str) -> bool:
        return actions.ALL in self.actions or action in self.actions

    # --- Explanations ----------------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return f"rule #{self.id}" if self.id is not None else "built-in rule"

    @property
    def who(self) -> str:
        return {
            USER: f"user {self.user_label}",
            GROUP: f"members of {self.group_ref}",
            SIGNED_IN: "everyone signed in",
            ANONYMOUS: "anonymous visitors",
        }.get(self.subject, self.subject)

    @property
    def scope(self) -> str:
        parts = [f"{name} {_quote(values)}" for name, values in self.conditions.items()]
        if self.only_owned:
            parts.insert(0, "entities they own")
        return " and ".join(parts) if parts else "everything"

    def describe(self) -> str:
        verb = "denies" if self.effect == DENY else "grants"
        return f'{self.origin} "{self.name}": {verb} {self.role_name} to {self.who} on {self.scope}'

    # --- Matching --------------------------------------------------------------------------------
    def applies_to(self, subject: Subject) -> bool:
        if self.subject == ANONYMOUS:
            return not subject.is_authenticated
        if not subject.is_authenticated:
            return False
        if self.subject == SIGNED_IN:
            return True
        if self.subject == USER:
            return self.user_id is not None and self.user_id == subject.user_id
        if self.subject == GROUP:
            return bool(self.group_ref) and self.group_ref.lower() in subject.refs
        return False

    def never_matches(self, subject: Subject) -> bool:
        """An "entities they own" rule for someone who is nobody in the catalog."""
        return self.only_owned and not subject.refs

    def mismatch(self, target: Target | None, subject: Subject) -> str:
        """Why the target fails this rule's conditions; empty when it meets them all."""
        if target is None:
            return "the action has no target entity and this rule has conditions" if self.conditioned else ""
        if self.only_owned and target.owner not in subject.refs:
            owner = target.owner or "no owner"
            return f"{target.ref or 'the target'} is owned by {owner}, not by {subject.label} or their groups"
        for name, values in self.conditions.items():
            wanted = {v.lower() for v in values}
            actual = getattr(target, name)
            if actual not in wanted:
                return f"{name} is {actual or '(empty)'}, the rule wants {_quote(values)}"
        return ""

    def q(self, subject: Subject, fields: FieldMap) -> Q:
        """The rule's conditions as a filter over rows described by ``fields`` (attribute → field)."""
        q = Q()
        if self.only_owned:
            q &= _field_q(fields, "owner", sorted(subject.refs))
        for name, values in self.conditions.items():
            q &= _field_q(fields, name, [v.lower() for v in values])
        return q


def _field_q(fields: FieldMap, attribute: str, values: list[str]) -> Q:
    if not values:
        return Q(pk__in=[])  # matches nothing
    mapped = fields.get(attribute)
    if mapped is None:
        raise ValueError(f"No field given for the target attribute {attribute!r}")
    if callable(mapped):
        return mapped(values)
    return Q(**{f"{mapped}__in": values})


@dataclass
class Considered:
    """One rule that could have decided, and what it did."""

    rule: Rule
    outcome: str  # "decided", "matched", "not for this person", "conditions not met"
    detail: str = ""


@dataclass
class Decision:
    allowed: bool
    action: str
    reason: str
    rule: Rule | None = None
    considered: list[Considered] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.allowed

    def as_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "action": self.action,
            "reason": self.reason,
            "rule": _rule_dict(self.rule) if self.rule else None,
            "considered": [
                {"rule": _rule_dict(c.rule), "outcome": c.outcome, "detail": c.detail} for c in self.considered
            ],
        }


def _rule_dict(rule: Rule) -> dict:
    return {"id": rule.id, "name": rule.name, "role": rule.role, "effect": rule.effect,
            "description": rule.describe()}  # fmt: skip


@dataclass(frozen=True)
class Filter:
    """A read filter for a list: nothing, everything, or rows matching ``q``."""

    q: Q
    unrestricted: bool = False
    empty: bool = False

    def apply(self, queryset):
        if self.empty:
            return queryset.none()
        if self.unrestricted:
            return queryset
        return queryset.filter(self.q)


EVERYTHING = Filter(Q(), unrestricted=True)
NOTHING = Filter(Q(pk__in=[]), empty=True)


class Policy:
    """A set of rules, asked "may this subject do this action on this target, and why?"."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)

    def _admin_rule(self, subject: Subject) -> Rule | None:
        return next((r for r in self.rules if r.is_platform_admin and r.applies_to(subject)), None)

    def decide(self, subject: Subject, action: str, target: Target | None = None) -> Decision:
        on = f" on {target.ref}" if target and target.ref else ""
        asked = f"{subject.label} {{verb}} {action}{on}"
        if subject.is_superuser:
            return Decision(True, action, asked.format(verb="may") + ": a superuser may do everything")
        if not subject.is_authenticated and action != actions.ENTITY_READ:
            return Decision(False, action, asked.format(verb="may not") + ": anonymous visitors may only read")
        admin = self._admin_rule(subject)
        if admin is not None:
            reason = asked.format(verb="may") + f": platform admins may do everything ({admin.describe()})"
            return Decision(True, action, reason, admin, [Considered(admin, "decided")])
        considered: list[Considered] = []
        allow = deny = None
        for rule in self.rules:
            if not rule.covers(action):
                continue
            if not rule.applies_to(subject):
                considered.append(Considered(rule, "not for this person", f"it is for {rule.who}"))
                continue
            why_not = rule.mismatch(target, subject)
            if why_not:
                considered.append(Considered(rule, "conditions not met", why_not))
                continue
            considered.append(Considered(rule, "matched"))
            if rule.effect == DENY and deny is None:
                deny = rule
            elif rule.effect == ALLOW and allow is None:
                allow = rule
        if deny is not None:
            _mark(considered, deny)
            reason = asked.format(verb="may not") + f": {deny.describe()} (deny wins)"
            return Decision(False, action, reason, deny, considered)
        if allow is not None:
            _mark(considered, allow)
            return Decision(True, action, asked.format(verb="may") + f": {allow.describe()}", allow, considered)
        reason = asked.format(verb="may not") + ": no rule grants it"
        return Decision(False, action, reason, None, considered)

    def filter(self, subject: Subject, action: str, fields: FieldMap) -> Filter:
        """Which rows the subject may do ``action`` on, as one Q (for lists: no per-row checks)."""
        if subject.is_superuser or self._admin_rule(subject) is not None:
            return EVERYTHING
        if not subject.is_authenticated and action != actions.ENTITY_READ:
            return NOTHING
        covering = [r for r in self.rules if r.covers(action)]
        allows = sorted((r for r in covering if r.effect == ALLOW), key=lambda r: (r.needs_refs, r.conditioned))
        allow_q: Q | None = None
        everything = False
        for rule in allows:
            if not rule.applies_to(subject) or rule.never_matches(subject):
                continue
            if not rule.conditioned:
                everything = True
                break
            allow_q = rule.q(subject, fields) if allow_q is None else allow_q | rule.q(subject, fields)
        if not everything and allow_q is None:
            return NOTHING
        deny_q = None
        for rule in covering:
            if rule.effect != DENY or not rule.applies_to(subject) or rule.never_matches(subject):
                continue
            if not rule.conditioned:
                return NOTHING
            deny_q = rule.q(subject, fields) if deny_q is None else deny_q | rule.q(subject, fields)
        if everything and deny_q is None:
            return EVERYTHING
        q = Q() if everything else allow_q
        if deny_q is not None:
            q &= ~deny_q
        return Filter(q)


def _mark(considered: list[Considered], rule: Rule) -> None:
    for item in considered:
        if item.rule is rule:
            item.outcome = "decided"
