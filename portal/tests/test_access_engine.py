"""The policy engine on its own: conditions, deny wins, defaults, derived owner, group grants, SQL filters."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from portal.access import Subject, Target, actions, current_policy, engine
from portal.models import Role, RoleGrant

pytestmark = pytest.mark.django_db

SERVICE = Target(kind="Component", type="service", namespace="default", owner="group:default/payments",
                 ref="component:default/checkout")  # fmt: skip
WEBSITE = Target(kind="Component", type="website", namespace="shop", owner="group:default/web",
                 ref="component:shop/storefront")  # fmt: skip


@pytest.fixture
def pat(db):
    return get_user_model().objects.create_user("pat", "pat@example.com", "pw")


def grant(name="rule", role="contributor", **kwargs) -> RoleGrant:
    rule = RoleGrant(name=name, role=Role.builtin_role(role), **kwargs)
    rule.full_clean()
    rule.save()
    return rule


def ask(user, action, target=None, refs=()):
    return current_policy().decide(Subject(user, refs), action, target)


def test_default_role_is_viewer_for_signed_in_people(pat):
    read = ask(pat, actions.ENTITY_READ, SERVICE)
    assert read.allowed
    assert 'built-in rule "Default role (viewer)"' in read.reason
    refresh = ask(pat, actions.ENTITY_REFRESH, SERVICE)
    assert not refresh.allowed
    assert refresh.reason.endswith("no rule grants it")
    assert any(c.outcome == "conditions not met" and c.rule.name == "Owners" for c in refresh.considered)


def test_default_role_none_reads_nothing(pat, settings):
    settings.CALLBOARD_DEFAULT_ROLE = "none"
    assert not ask(pat, actions.ENTITY_READ, SERVICE).allowed


def test_anonymous_reads_only_with_anonymous_read(settings):
    anonymous = AnonymousUser()
    assert not ask(anonymous, actions.ENTITY_READ, SERVICE).allowed
    settings.ANONYMOUS_READ = True
    assert ask(anonymous, actions.ENTITY_READ, SERVICE).allowed
    assert not ask(anonymous, actions.ENTITY_REFRESH, SERVICE).allowed


def test_derived_owner_through_identity_refs(pat):
    decision = ask(pat, actions.ENTITY_UNREGISTER, SERVICE, refs={"user:default/pat", "group:default/payments"})
    assert decision.allowed
    assert decision.rule.name == "Owners"
    assert not ask(pat, actions.ENTITY_UNREGISTER, WEBSITE, refs={"group:default/payments"}).allowed


@pytest.mark.parametrize(
    ("conditions", "service", "website"),
    [
        ({"kinds": "component"}, True, True),
        ({"kinds": "API, Resource"}, False, False),
        ({"types": "Service"}, True, False),
        ({"namespaces": "shop"}, False, True),
        ({"owners": "web"}, False, True),  # short refs are completed to group:default/web
        ({"kinds": "Component", "types": "website", "namespaces": "default"}, False, False),
        ({"only_owned": True}, True, False),
    ],
)
def test_each_condition(pat, conditions, service, website):
    rule = grant(subject=RoleGrant.Subject.USER, user=pat, **conditions)
    # Only the "entities they own" case needs pat in a group (payments owns SERVICE).
    refs = {"group:default/payments"} if conditions.get("only_owned") else ()
    for target, expected in ((SERVICE, service), (WEBSITE, website)):
        decision = ask(pat, actions.ENTITY_REFRESH, target, refs)
        assert decision.allowed is expected
        assert (decision.rule.id == rule.id) if expected else decision.rule is None


def test_group_grant_applies_through_identity_refs(pat):
    grant(subject=RoleGrant.Subject.GROUP, group_ref="platform", role="owner")
    assert ask(pat, actions.ENTITY_UNREGISTER, WEBSITE, {"group:default/platform"}).allowed
    assert not ask(pat, actions.ENTITY_UNREGISTER, WEBSITE, {"group:default/other"}).allowed


def test_deny_wins_over_owner_and_default(pat):
    grant(name="No unregistering in prod namespace", role="owner", effect="deny", subject="signed_in",
          namespaces="default")  # fmt: skip
    decision = ask(pat, actions.ENTITY_UNREGISTER, SERVICE, {"group:default/payments"})
    assert not decision.allowed
    assert "deny wins" in decision.reason and "No unregistering" in decision.reason
    assert {c.outcome for c in decision.considered} >= {"decided", "matched"}


def test_platform_admin_and_superuser_do_everything(pat, admin_user):
    grant(name="deny all reads", role="viewer", effect="deny", subject="signed_in")
    assert ask(admin_user, actions.ENTITY_READ, SERVICE).allowed
    assert not ask(pat, actions.ENTITY_READ, SERVICE).allowed
    grant(name="pat admin", role="platform-admin", subject="user", user=pat)
    decision = ask(pat, actions.ADMIN)
    assert decision.allowed and "platform admins" in decision.reason


def test_targetless_actions_need_unconditioned_rules(pat):
    grant(subject="user", user=pat, kinds="Component")
    assert not ask(pat, actions.LOCATION_REGISTER).allowed
    grant(subject="user", user=pat)
    assert ask(pat, actions.LOCATION_REGISTER).allowed


def test_template_run_is_ready_for_the_scaffolder(pat):
    template = Target(kind="Template", type="service", owner="group:default/platform", ref="template:default/svc")
    assert not ask(pat, actions.TEMPLATE_RUN, template).allowed
    grant(subject="signed_in", role="contributor", kinds="Template", types="service")
    assert ask(pat, actions.TEMPLATE_RUN, template).allowed


def test_disabled_rules_and_rule_edits_apply_at_once(pat):
    rule = grant(subject="user", user=pat)
    assert ask(pat, actions.ENTITY_REFRESH, SERVICE).allowed
    rule.enabled = False
    rule.save()
    assert not ask(pat, actions.ENTITY_REFRESH, SERVICE).allowed


def test_validation_of_rules(pat):
    with pytest.raises(ValidationError, match="conditions empty"):
        grant(role="platform-admin", subject="user", user=pat, kinds="Component")
    with pytest.raises(ValidationError, match="only be granted reading"):
        grant(role="owner", subject="anonymous")
    with pytest.raises(ValidationError):
        grant(subject="group", group_ref="")
    assert grant(subject="group", group_ref="Payments").group_ref == "group:default/payments"


def test_builtin_roles_cannot_be_deleted():
    with pytest.raises(ValidationError):
        Role.builtin_role("viewer").delete()
    custom = Role.objects.create(slug="refresher", name="Refresher", actions=[actions.ENTITY_REFRESH])
    custom.delete()


FIELDS = {"kind": "kind", "type": "type", "namespace": "namespace", "owner": "owner"}


def test_filter_is_everything_nothing_or_a_q(pat, settings):
    policy = current_policy()
    assert policy.filter(Subject(pat, ()), actions.ENTITY_READ, FIELDS).unrestricted
    refresh = policy.filter(Subject(pat, {"group:default/payments"}), actions.ENTITY_REFRESH, FIELDS)
    assert not refresh.unrestricted and not refresh.empty
    assert "group:default/payments" in str(refresh.q)
    settings.CALLBOARD_DEFAULT_ROLE = "none"
    assert current_policy().filter(Subject(pat, ()), actions.ENTITY_READ, FIELDS).empty


def test_filter_does_not_compute_identity_refs_when_unrestricted(pat):
    subject = Subject(pat)
    assert current_policy().filter(subject, actions.ENTITY_READ, FIELDS).unrestricted
    assert subject._refs is None


def test_deny_filter_is_negated(pat):
    grant(name="hide hr", role="viewer", effect="deny", subject="signed_in", namespaces="hr")
    read = current_policy().filter(Subject(pat, ()), actions.ENTITY_READ, FIELDS)
    assert not read.unrestricted
    assert "NOT" in str(read.q)


def test_engine_rule_descriptions():
    rule = engine.Rule(name="x", role="owner", role_name="Owner", actions=frozenset(), kinds=("api",), id=3)
    assert rule.describe() == 'rule #3 "x": grants Owner to everyone signed in on kind api'
