"""The audit log: who changed what, when and from where, for tokens, users, groups, permissions, SSO apps and
everything changed in the Django admin; read-only in the admin."""

from __future__ import annotations

from io import StringIO

import pytest
from allauth.socialaccount.models import SocialApp
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from portal import audit
from portal.models import ApiToken, AuditEvent

pytestmark = pytest.mark.django_db


def events(action: str | None = None):
    qs = AuditEvent.objects.order_by("id")
    return list(qs.filter(action=action) if action else qs)


def test_record_uses_the_acting_context(user):
    with audit.acting_as("cli:ops"):
        event = audit.record(None, "catalog.purge", "component:default/x", {"rows": 3})
    assert (event.actor, event.actor_repr, event.target_repr, event.changes) == (None, "cli:ops", "component:default/x",
                                                                                 {"rows": 3})  # fmt: skip
    event = audit.record(user, "custom.thing", user)
    assert event.actor == user and event.target_type == "auth.user" and event.target_id == str(user.pk)
    assert audit.record(None, "x.y").actor_repr == "system"  # outside requests and commands


def test_token_created_and_revoked_in_the_ui_are_logged_with_actor_and_ip(logged_in_client, user):
    logged_in_client.post("/accounts/tokens/", {"name": "ci", "scopes": ["catalog:read", "catalog:write"],
                                                "expiry": "30", "owner": user.pk}, REMOTE_ADDR="192.0.2.7")  # fmt: skip
    created = events("token.created")
    assert len(created) == 1
    event = created[0]
    assert event.actor == user and event.actor_repr == "dev" and event.ip == "192.0.2.7"
    assert event.changes["scopes"] == ["catalog:read", "catalog:write"] and event.changes["name"] == "ci"
    assert "key_digest" not in event.changes  # never the secret, not even its hash
    token = ApiToken.objects.get(name="ci")
    logged_in_client.post(f"/accounts/tokens/{token.pk}/revoke/", {"confirm": "yes"}, REMOTE_ADDR="192.0.2.8")
    (revoked,) = events("token.revoked")
    assert revoked.actor == user and revoked.ip == "192.0.2.8" and revoked.target_id == str(token.pk)
    assert revoked.changes["revoked_at"][0] is None


def test_api_token_use_writes_no_event(api_client):
    before = AuditEvent.objects.count()
    api_client.get("/api/v1/catalog/entities/")
    assert AuditEvent.objects.count() == before  # last_used_at is not an audited change


def test_cli_token_commands_are_logged(user):
    with audit.acting_as("cli:alice"):
        call_command("token", "create", "dev", "--scopes", "catalog:read", stdout=StringIO())
        token = ApiToken.objects.get()
        call_command("token", "revoke", token.hint, stdout=StringIO())
    assert [(e.action, e.actor_repr) for e in events() if e.action.startswith("token.")] == [
        ("token.created", "cli:alice"),
        ("token.revoked", "cli:alice"),
    ]


def test_admin_user_changes_are_logged_with_field_changes_and_mirrored_log_entry(admin_client, admin_user, user):
    data = {
        "username": "dev", "email": "dev@example.com", "is_active": "on", "is_staff": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }  # fmt: skip
    response = admin_client.post(f"/admin/auth/user/{user.pk}/change/", data, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 302, response.content.decode()[:2000]
    changed = [e for e in events("auth.user.changed") if "is_staff" in e.changes]
    assert changed and changed[0].changes["is_staff"] == [False, True]
    assert changed[0].actor == admin_user and changed[0].ip == "198.51.100.4"
    (mirrored,) = events("admin.change")
    assert mirrored.actor == admin_user and mirrored.target_type == "auth.user" and mirrored.target_id == str(user.pk)
    assert "Staff status" in str(mirrored.changes["message"])


def test_permission_and_group_membership_changes_are_logged(user):
    group = Group.objects.create(name="platform")
    perm = Permission.objects.get(codename="add_apitoken")
    group.permissions.add(perm)
    user.groups.add(group)
    group.user_set.remove(user)  # the reverse side is recorded on the user too
    user.user_permissions.add(perm)
    user.is_superuser = True
    user.save()
    seen = [(e.action, e.target_repr, e.changes) for e in events() if e.action != "auth.group.created"]
    assert ("auth.group.changed", "platform", {"permissions": {"added": [str(perm)]}}) in seen
    assert ("auth.user.changed", "dev", {"groups": {"added": ["platform"]}}) in seen
    assert ("auth.user.changed", "dev", {"groups": {"removed": ["platform"]}}) in seen
    assert ("auth.user.changed", "dev", {"user_permissions": {"added": [str(perm)]}}) in seen
    assert ("auth.user.changed", "dev", {"is_superuser": [False, True]}) in seen


def test_secrets_are_masked_and_logins_are_not_changes(client, user):
    user.set_password("a-new-password-1")
    user.save()
    (event,) = events("auth.user.changed")
    assert event.changes == {"password": "<changed>"}
    client.post("/accounts/login/", {"login": "dev", "password": "a-new-password-1"})
    assert len(events("auth.user.changed")) == 1  # last_login moved: not an audited change
    app = SocialApp.objects.create(provider="openid_connect", name="Corp SSO", client_id="cb", secret="s3cr3t")
    (created,) = events("socialaccount.app.created")
    assert created.changes["secret"] == "<changed>" and "s3cr3t" not in str(created.changes)
    app.delete()
    assert events("socialaccount.app.deleted")


def test_admin_bulk_delete_is_logged(admin_client, admin_user):
    groups = [Group.objects.create(name=f"g{n}") for n in range(3)]
    response = admin_client.post("/admin/auth/group/", {"action": "delete_selected", "post": "yes",
                                                        "_selected_action": [g.pk for g in groups]})  # fmt: skip
    assert response.status_code == 302
    assert not Group.objects.exists()
    assert sorted(e.target_repr for e in events("admin.deletion")) == ["g0", "g1", "g2"]
    assert all(e.actor == admin_user for e in events("admin.deletion"))
    assert len(events("auth.group.deleted")) == 3


def test_service_account_created_in_admin(admin_client, admin_user):
    response = admin_client.post("/admin/portal/serviceaccount/add/", {"username": "ci-bot", "description": "CI"})
    assert response.status_code == 302, response.content.decode()[:2000]
    bot = get_user_model().objects.get(username="ci-bot")
    assert not bot.has_usable_password() and bot.service_account.created_by == "root"
    assert events("service_account.created") and events("admin.addition")


def test_audit_log_is_read_only_filterable_and_searchable_in_admin(admin_client, user):
    ApiToken.issue(user, name="ci")
    event = AuditEvent.objects.get(action="token.created")
    listing = admin_client.get("/admin/portal/auditevent/", {"q": "token", "action": "token.created"})
    assert listing.status_code == 200 and "token.created" in listing.content.decode()
    assert admin_client.get("/admin/portal/auditevent/", {"target_type": "portal.apitoken"}).status_code == 200
    assert admin_client.get("/admin/portal/auditevent/add/").status_code == 403
    detail = admin_client.get(f"/admin/portal/auditevent/{event.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    admin_client.post(f"/admin/portal/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert admin_client.post(f"/admin/portal/auditevent/{event.pk}/change/", {"action": "x"}).status_code == 403


def test_track_is_one_idempotent_line():
    tracking = audit.track(ApiToken, label="something-else")
    assert tracking is audit.TRACKED[ApiToken] and tracking.label == "token"
    assert {t.label for t in audit.TRACKED.values()} >= {
        "token", "service_account", "auth.user", "auth.group", "socialaccount.app", "catalog.override",
    }  # fmt: skip


def test_saving_only_untracked_fields_costs_no_lookup(user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        user.save(update_fields=["last_login"])
    assert len(queries.captured_queries) == 1
    assert [e.action for e in events()] == ["auth.user.created"]
