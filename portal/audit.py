"""The audit log's public API: ``record()`` one event, ``track()`` a model's saves and deletes.

Who acted comes from a context variable: ``AuditContextMiddleware`` binds each request (its user is read when
the event is written, so DRF's token authentication is seen too); management commands run as
``cli:<os user>``; everything else (Celery tasks, start-up) as ``system``. ``acting_as()`` overrides it.

Any app wires its own models with one line in its ``AppConfig.ready()``::

    from portal.audit import track
    track(GroupMappingRule, label="identity.group_mapping")
    track(Role, label="access.role")
    track(RoleGrant, label="access.rule")

Events are written in the same transaction as the change they describe, so a rolled-back change leaves
no event behind. See docs/security.md.
"""

from __future__ import annotations

import contextlib
import getpass
import ipaddress
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from portal.models.audit import AuditEvent

SECRET_MASK = "<changed>"  # noqa: S105 - what a secret field's value is recorded as


@dataclass(frozen=True)
class Target:
    """What an event is about, when it is not a model instance at hand (e.g. an admin LogEntry's object)."""

    type: str = ""
    id: str = ""
    repr: str = ""


@dataclass
class _Context:
    request: Any = None
    name: str = ""
    user: Any = None


_context: ContextVar[_Context | None] = ContextVar("callboard_audit_context", default=None)


def _default_name() -> str:
    """``cli:<os user>`` inside ``manage.py <command>``, ``system`` otherwise (workers, tests)."""
    if sys.argv and sys.argv[0].endswith("manage.py"):
        with contextlib.suppress(Exception):
            return f"cli:{getpass.getuser()}"
        return "cli"
    return "system"


@contextlib.contextmanager
def acting_as(name: str, user: Any = None) -> Iterator[None]:
    """Attribute events inside the block to ``name`` (and ``user`` when there is one)."""
    token = _context.set(_Context(name=name, user=user))
    try:
        yield
    finally:
        _context.reset(token)


def bind_request(request):
    """Make ``request`` the source of actor and IP address; returns a token for ``unbind``."""
    return _context.set(_Context(request=request))


def unbind(token) -> None:
    _context.reset(token)


def client_ip(request) -> str | None:
    """The client's address as allauth's sign-in rate limits see it (``ALLAUTH_TRUSTED_PROXY_COUNT``)."""
    from allauth.account.adapter import get_adapter as get_account_adapter

    try:
        address = get_account_adapter(request).get_client_ip(request)
        return str(ipaddress.ip_address(address))
    except (PermissionDenied, ImproperlyConfigured, ValueError):
        return None


def current_actor() -> tuple[Any, str, str | None]:
    """(user or None, name, ip) of whoever is acting now."""
    ctx = _context.get()
    if ctx is None:
        return None, _default_name(), None
    if ctx.request is None:
        return ctx.user, ctx.name, None
    user = getattr(ctx.request, "user", None)
    ip = client_ip(ctx.request)
    if user is not None and user.is_authenticated:
        return user, user.get_username(), ip
    return None, "anonymous", ip


def _describe(target: Any) -> Target:
    if target is None:
        return Target()
    if isinstance(target, Target):
        return target
    if isinstance(target, models.Model):
        meta = target._meta
        return Target(f"{meta.app_label}.{meta.model_name}", str(target.pk or ""), str(target)[:300])
    return Target(repr=str(target)[:300])


def record(
    actor: Any, action: str, target: Any = None, changes: dict | None = None, *, request: Any = None
) -> AuditEvent:
    """Write one event. ``actor``: a user, a name (``"system"``) or None for whoever is acting now.

    ``request``: take the client IP from it (when the event comes with its own request, e.g. a signal)."""
    user, name, ip = current_actor()
    if request is not None:
        ip = client_ip(request)
    if actor is not None:
        if isinstance(actor, str):
            user, name = None, actor
        else:
            user, name = actor, actor.get_username()
    what = _describe(target)
    return AuditEvent.objects.create(
        actor=user if user is not None and user.pk else None,
        actor_repr=name[:150],
        action=action[:100],
        target_type=what.type,
        target_id=what.id[:100],
        target_repr=what.repr,
        changes=_jsonable(changes or {}),
        ip=ip,
    )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


# --- Failed sign-ins ------------------------------------------------------------------------------------

#: Credential keys that name who tried to sign in; nothing else of the credentials is ever recorded.
LOGIN_KEYS = ("username", "email", "login", "phone")


def attempted_login(credentials: dict) -> str:
    """The name a failed sign-in tried (username, email or phone), never the password."""
    for key in LOGIN_KEYS:
        value = credentials.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:150]
    return ""


def sign_in_failed(request: Any, action: str, *, login: str = "", provider: str = "password", **details) -> None:
    """One failed sign-in: ``auth.login_failed`` (wrong password), ``auth.login_rate_limited`` (refused by the
    failed-sign-in limit) or ``auth.sso_failed`` (an SSO callback error). The actor is ``anonymous``; the
    attempted name is the target, so the admin's search finds every attempt on one account."""
    target = Target("auth.login", "", login or f"(sign-in via {provider})")
    record("anonymous", action, target, {"login": login, "provider": provider, **details}, request=request)


def _user_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """Django's ``user_login_failed``: its credentials have the password masked; only the name is kept."""
    if request is None:
        return  # authenticate() without a request (scripts, the shell): not a sign-in
    sign_in_failed(request, "auth.login_failed", login=attempted_login(credentials))


# --- Tracking models --------------------------------------------------------------------------------------


ActionFor = Callable[[models.Model, str, dict], str | None]


@dataclass
class Tracking:
    """How one model is tracked; kept in ``TRACKED`` so docs and tests can list them."""

    model: type[models.Model]
    label: str
    fields: list[str]
    secret: set[str] = field(default_factory=set)
    m2m: list[str] = field(default_factory=list)
    action_for: ActionFor | None = None

    def snapshot(self, instance: models.Model) -> dict:
        data = {}
        for name in self.fields:
            model_field = self.model._meta.get_field(name)
            data[name] = _jsonable(model_field.value_from_object(instance))
        return data

    def masked(self, changes: dict) -> dict:
        return {k: (SECRET_MASK if k in self.secret else v) for k, v in changes.items()}

    def action(self, instance: models.Model, verb: str, changes: dict) -> str:
        custom = self.action_for(instance, verb, changes) if self.action_for else None
        return custom or f"{self.label}.{verb}"


TRACKED: dict[type[models.Model], Tracking] = {}


def track(
    model: type[models.Model],
    *,
    label: str | None = None,
    exclude: Iterable[str] = (),
    secret: Iterable[str] = (),
    m2m: Iterable[str] = (),
    action_for: ActionFor | None = None,
) -> Tracking:
    """Record creations, changes (with old and new values) and deletions of ``model``.

    Every concrete field except ``exclude`` is recorded; ``secret`` fields are recorded as changed
    without their values; ``m2m`` names many-to-many fields whose additions and removals are recorded too.
    ``action_for(instance, verb, changes)`` may rename an event (e.g. ``token.revoked``). Idempotent.
    """
    if model in TRACKED:
        return TRACKED[model]
    meta = model._meta
    skip = set(exclude)
    names = [f.name for f in meta.concrete_fields if not f.primary_key and f.name not in skip]
    tracking = Tracking(model, label or f"{meta.app_label}.{meta.model_name}", names, set(secret), list(m2m),
                        action_for)  # fmt: skip
    TRACKED[model] = tracking
    uid = f"portal.audit:{meta.label}"
    pre_save.connect(_before_save, sender=model, dispatch_uid=f"{uid}:pre_save", weak=False)
    post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}:post_save", weak=False)
    post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}:post_delete", weak=False)
    for name in tracking.m2m:
        through = meta.get_field(name).remote_field.through
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"{uid}:m2m:{name}", weak=False)
    return tracking


def _before_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    tracking = TRACKED[sender]
    instance._audit_skip = update_fields is not None and not set(update_fields) & set(tracking.fields)
    if raw or instance._state.adding or instance.pk is None or instance._audit_skip:
        instance._audit_before = None  # no lookup when only untracked fields are saved (e.g. last_login)
        return
    old = sender._base_manager.filter(pk=instance.pk).first()
    instance._audit_before = tracking.snapshot(old) if old is not None else None


def _after_save(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw or getattr(instance, "_audit_skip", False):
        return
    tracking = TRACKED[sender]
    after = tracking.snapshot(instance)
    before = getattr(instance, "_audit_before", None)
    if created or before is None:
        changes = {k: v for k, v in after.items() if v not in (None, "", [], {})}
        verb = "created"
    else:
        changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        if update_fields is not None:
            changes = {k: v for k, v in changes.items() if k in update_fields}
        if not changes:
            return  # nothing the log cares about (e.g. only last_login moved)
        verb = "changed"
    record(None, tracking.action(instance, verb, changes), instance, tracking.masked(changes))


def _after_delete(sender, instance, **kwargs) -> None:
    tracking = TRACKED[sender]
    record(None, tracking.action(instance, "deleted", {}), instance)


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """Additions and removals on a tracked many-to-many (user.groups.add(...) and group.user_set.add(...))."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    verb = {"post_add": "added", "post_remove": "removed", "pre_clear": "removed"}[action]
    for tracking in TRACKED.values():
        for name in tracking.m2m:
            if tracking.model._meta.get_field(name).remote_field.through is not sender:
                continue
            if not reverse:
                others = (model._base_manager.filter(pk__in=pk_set) if action != "pre_clear"
                          else getattr(instance, name).all())  # fmt: skip
                items = sorted(str(o) for o in others)
                if items:
                    record(None, f"{tracking.label}.changed", instance, {name: {verb: items}})
            else:
                owners = (tracking.model._base_manager.filter(pk__in=pk_set) if action != "pre_clear"
                          else tracking.model._base_manager.filter(**{name: instance}))  # fmt: skip
                for owner in owners:
                    record(None, f"{tracking.label}.changed", owner, {name: {verb: [str(instance)]}})


# --- Django admin -----------------------------------------------------------------------------------------

ADMIN_VERBS = {1: "addition", 2: "change", 3: "deletion"}


def _mirror_log_entry(sender, instance, created, raw=False, **kwargs) -> None:
    """Copy each Django admin LogEntry into the audit log, so every admin change is there."""
    if not created or raw:
        return
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_id(instance.content_type_id) if instance.content_type_id else None
    target = Target(
        f"{content_type.app_label}.{content_type.model}" if content_type else "",
        str(instance.object_id or ""),
        instance.object_repr or "",
    )
    message = instance.get_change_message()
    record(instance.user, f"admin.{ADMIN_VERBS.get(instance.action_flag, 'action')}", target,
           {"message": message} if message else None)  # fmt: skip


def audited_delete_selected(modeladmin, request, queryset):
    """The admin's "delete selected" action. Django logs several deletions with bulk_create (no signal),
    so this records them here; a single deletion arrives through the LogEntry mirror."""
    from django.contrib.admin.actions import delete_selected

    confirmed = request.POST.get("post") and queryset.count() > 1
    before = [(obj.pk, str(obj)) for obj in queryset] if confirmed else []
    response = delete_selected(modeladmin, request, queryset)
    if before:
        meta = queryset.model._meta
        remaining = set(queryset.model._base_manager.filter(pk__in=[pk for pk, _ in before])
                        .values_list("pk", flat=True))  # fmt: skip
        for pk, text in before:
            if pk not in remaining:
                record(request.user, "admin.deletion", Target(f"{meta.app_label}.{meta.model_name}", str(pk), text))
    return response


audited_delete_selected.allowed_permissions = ("delete",)
audited_delete_selected.short_description = "Delete selected %(verbose_name_plural)s"


# --- What the core tracks ---------------------------------------------------------------------------------


def _token_action(instance, verb: str, changes: dict) -> str | None:
    if verb == "changed" and "revoked_at" in changes and changes["revoked_at"][0] is None:
        return "token.revoked"
    return None


def install() -> None:
    """Called from PortalConfig.ready(): track the core's security-relevant models and mirror the admin."""
    from allauth.socialaccount.models import SocialApp
    from django.contrib import admin
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.auth.signals import user_login_failed

    from portal.models import ApiToken, GroupMappingRule, NotificationTarget, Role, RoleGrant, ServiceAccount

    track(ApiToken, label="token", exclude=["key_digest", "last_used_at"], action_for=_token_action)
    track(ServiceAccount, label="service_account")
    track(get_user_model(), label="auth.user", exclude=["last_login"], secret=["password"],
          m2m=["groups", "user_permissions"])  # fmt: skip
    track(Group, label="auth.group", m2m=["permissions"])
    track(SocialApp, label="socialaccount.app", secret=["secret"])
    track(GroupMappingRule, label="identity.group_mapping")
    track(Role, label="access.role")
    track(RoleGrant, label="access.rule")
    track(NotificationTarget, label="notifications.target", secret=["url"])
    post_save.connect(_mirror_log_entry, sender=LogEntry, dispatch_uid="portal.audit:logentry", weak=False)
    user_login_failed.connect(_user_login_failed, dispatch_uid="portal.audit:login-failed", weak=False)
    admin.site.add_action(audited_delete_selected, "delete_selected")
