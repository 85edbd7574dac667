"""Identity resolution: each resolver, their order, group mapping, storage and the catalog-refresh hook."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog import identity
from catalog.ownership import identity_refs, user_entity_ref
from catalog.tests.sso_org import ORG, load_org
from portal.auth.claims import local_claims
from portal.models import GroupMappingRule, Identity, LoginEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(allow_tmp):
    return load_org(allow_tmp)


def person(username: str, email: str = ""):
    return get_user_model().objects.create_user(username, email, "pw-12345-long")


def sso_claims(**values):
    claims = {"provider": "acme", "provider_kind": "openid_connect", "provider_name": "Acme SSO", "email": "",
              "emails": [], "username": "", "groups": [], "annotations": {}}  # fmt: skip
    claims.update(values)
    return claims


def test_email_resolver_matches_case_insensitively_and_walks_groups_and_parents(org):
    result = identity.resolve(person("p1", "pat@EXAMPLE.com"), local_claims(person("p2", "pat@example.com")))
    assert result.entity_ref == "user:default/pat"
    assert result.matched_by == "email"
    assert result.ownership == ["group:default/engineering", "group:default/payments", "user:default/pat"]
    assert result.groups["group:default/payments"]["source"] == "catalog"
    assert result.groups["group:default/engineering"]["source"] == "parent"
    assert result.attempts[1].outcome == "skipped"  # annotation: an earlier resolver matched


def test_annotation_resolver_matches_the_github_login(org):
    claims = sso_claims(provider="github", annotations={"github.com/user-login": "OctoCat"})
    result = identity.resolve(person("someone"), claims)
    assert (result.entity_ref, result.matched_by) == ("user:default/octo", "annotation")
    assert result.attempts[0].outcome == "skipped"  # no email at all
    assert "group:default/platform" in result.ownership


def test_username_resolver(org):
    result = identity.resolve(person("SAM"), local_claims(person("x")) | {"username": ""})
    assert result.entity_ref == "user:default/sam" and result.matched_by == "username"


def test_resolver_order_is_configurable(org, settings):
    user = person("sam", "pat@example.com")
    settings.IDENTITY_RESOLVERS = ["username", "email"]
    assert identity.resolve(user, local_claims(user)).entity_ref == "user:default/sam"
    settings.IDENTITY_RESOLVERS = ["email", "username"]
    assert identity.resolve(user, local_claims(user)).entity_ref == "user:default/pat"
    settings.IDENTITY_RESOLVERS = ["annotation"]
    assert identity.resolve(user, local_claims(user)).entity_ref == ""


def test_ambiguous_email_never_guesses_and_falls_through(org):
    user = person("nobody", "twin@example.com")
    result = identity.resolve(user, local_claims(user))
    assert result.attempts[0].outcome == "ambiguous"
    assert "user:default/twin-a" in result.attempts[0].detail and "user:default/twin-b" in result.attempts[0].detail
    assert result.entity_ref == "" and result.needs_review(user)


def test_unknown_resolver_is_reported_not_fatal(org, settings):
    settings.IDENTITY_RESOLVERS = ["ldap", "email"]
    user = person("p", "pat@example.com")
    result = identity.resolve(user, local_claims(user))
    assert result.attempts[0].outcome == "skipped" and "unknown resolver" in result.attempts[0].detail
    assert result.entity_ref == "user:default/pat"


def test_unmatched_person_keeps_mapped_team_groups_and_is_flagged(org):
    GroupMappingRule.objects.create(match_type="prefix", pattern="team-", target="group:default/{rest}")
    user = person("newbie", "new@example.com")
    stored = identity.store(user, sso_claims(email="new@example.com", groups=["team-platform", "all-staff"]))
    assert stored.needs_review and stored.entity_ref == ""
    assert stored.ownership_refs == ["group:default/engineering", "group:default/platform"]
    assert stored.trace["unmapped_claims"] == ["all-staff"]
    assert Identity.objects.needs_review().get() == stored


def test_mapping_rules_in_order_first_match_wins_and_provider_scoping(org):
    GroupMappingRule.objects.create(position=1, match_type="exact", pattern="Payments Devs", target="payments")
    GroupMappingRule.objects.create(position=2, match_type="regex", pattern=r"(?P<team>[a-z]+)-admins",
                                    target="group:default/{team}")  # fmt: skip
    GroupMappingRule.objects.create(position=3, match_type="regex", pattern=r"([a-z]+)-(admins|devs)",
                                    target="group:default/never-{1}")  # fmt: skip
    GroupMappingRule.objects.create(position=4, match_type="prefix", pattern="gh-", target="{rest}", provider="github")
    GroupMappingRule.objects.create(position=5, match_type="regex", pattern=r"bad (.*)", target="group:default/{1}")
    GroupMappingRule.objects.create(position=0, pattern="platform-admins", target="x", enabled=False)
    claims = sso_claims(groups=["Payments Devs", "platform-admins", "gh-ops", "bad name here"])
    result = identity.resolve(person("u"), claims)
    assert result.mapped_refs == ["group:default/payments", "group:default/platform"]
    assert result.rejected[0]["claim"] == "bad name here" and "not a valid entity name" in result.rejected[0]["reason"]
    assert result.unmapped == ["gh-ops"]  # that rule only applies to GitHub sign-ins
    github = identity.resolve(person("v"), claims | {"provider": "github"})
    assert "group:default/ops" in github.mapped_refs


def test_identity_refs_reads_the_stored_identity_in_one_query(org, django_assert_num_queries):
    user = person("pat2", "pat@example.com")
    identity.store(user, local_claims(user))
    with django_assert_num_queries(1):
        refs = identity_refs(user)
    assert refs == {"user:default/pat", "group:default/payments", "group:default/engineering"}


def test_identity_refs_computes_and_stores_when_absent(org):
    user = person("pat3", "pat@example.com")
    assert user_entity_ref(user) == "user:default/pat"
    assert Identity.objects.get(user=user).matched_by == "email"
    assert identity_refs(user) >= {"user:default/pat"}


def test_password_login_resolves_and_records_a_login_event(org, client):
    person("pat4", "pat@example.com")
    response = client.post("/accounts/login/", {"login": "pat4", "password": "pw-12345-long"})
    assert response.status_code == 302
    event = LoginEvent.objects.get()
    assert (event.provider, event.entity_ref, event.matched_by) == ("local", "user:default/pat", "email")
    home = client.get("/")
    assert b"Checkout" in home.content and b"Engineering Handbook" in home.content


def test_catalog_refresh_recomputes_stored_identities(org, allow_tmp, django_capture_on_commit_callbacks):
    user = person("pat5", "pat@example.com")
    identity.store(user, local_claims(user))
    (allow_tmp / "org.yaml").write_text(ORG.replace("memberOf: [payments]", "memberOf: [platform]"))
    from catalog.ingestion.refresh import refresh_location

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refresh_location(org.pk, force=True)  # eager Celery in tests: the recompute runs on commit
    assert len(callbacks) == 1
    assert "group:default/platform" in Identity.objects.get(user=user).ownership_refs
    assert "group:default/payments" not in Identity.objects.get(user=user).ownership_refs
