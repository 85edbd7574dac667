"""A real SAML 2.0 sign-in in Chromium against a test IdP on 127.0.0.1 (portal/testing/saml).

Nothing is patched: allauth's SAML provider reads the IdP's metadata, sends an AuthnRequest over the
HTTP-Redirect binding, and python3-saml validates the signed Response the IdP posts back to the ACS. Its
groups attribute (Entra's URI here, found by the default attribute list) goes through the mapping rules
to catalog teams and ownership, as for OIDC.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog.tests.sso_org import assert_owns_through_teams, load_org
from portal.auth.providers import saml_app, saml_unavailable_reason
from portal.models import GroupMappingRule, Identity, LoginEvent
from portal.testing.browser import shot, sign_in, sign_in_with_idp

if reason := saml_unavailable_reason():
    pytest.skip(f"SAML support cannot run here: {reason}", allow_module_level=True)

from portal.testing.saml import SamlIdp, SamlUser, run_idp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "corp"


@pytest.fixture(scope="module")
def idp(live_server):
    """The IdP trusts exactly this portal: its default SP entity id (the metadata URL) and its ACS URL."""
    config = SamlIdp(
        sp_entity_id=f"{live_server.url}/accounts/saml/{SLUG}/metadata/",
        acs_url=f"{live_server.url}/accounts/saml/{SLUG}/acs/",
        users=[
            SamlUser("pat", "idp-pass-pat", "pat@example.com", ["team-platform", "all-staff"]),
            SamlUser("newbie", "idp-pass-new", "newbie@example.com", ["team-platform"]),
            SamlUser("mallory", "idp-pass-m", "mallory@example.com", ["team-platform"], fault="tampered"),
            SamlUser("plain", "idp-pass-p", "plain@example.com", ["team-platform"], fault="unsigned"),
            SamlUser("elsewhere", "idp-pass-e", "elsewhere@example.com", ["team-platform"], fault="wrong-audience"),
        ],
    )  # fmt: skip
    assert "127.0.0.1" not in live_server.url  # the IdP is another site: the ACS POST is cross-site
    with run_idp(config) as running:
        yield running


@pytest.fixture
def saml(settings, idp, allow_tmp):
    """Configure the IdP exactly as CALLBOARD_SAML_PROVIDERS would, load the org and one mapping rule."""
    app = saml_app(
        {"client_id": SLUG, "name": "Corporate SSO",
         "settings": {"idp": {"entity_id": idp.entity_id, "metadata_url": f"{idp.base_url}/metadata"},
                      "attribute_mapping": {"uid": "urn:oasis:names:tc:SAML:attribute:subject-id",
                                            "email": "urn:oid:0.9.2342.19200300.100.1.3",
                                            "username": "urn:oid:0.9.2342.19200300.100.1.1"}}},
        where="test",
    )  # fmt: skip
    settings.SOCIALACCOUNT_PROVIDERS = {**settings.SOCIALACCOUNT_PROVIDERS, "saml": {"APPS": [app]}}
    load_org(allow_tmp)
    GroupMappingRule.objects.create(match_type="prefix", pattern="team-", target="group:default/{rest}")


def sign_in_with_saml(page, base_url: str, username: str, password: str) -> None:
    seen: list[tuple[str, str]] = []
    page.on("request", lambda request: seen.append((request.method, request.url)))
    sign_in_with_idp(page, base_url, "Continue with Corporate SSO", username, password)
    # HTTP-Redirect binding to the IdP on the other site, HTTP-POST binding back to the ACS.
    assert any(m == "GET" and u.startswith("http://127.0.0.1:") and "/sso?SAMLRequest=" in u for m, u in seen)
    assert ("POST", f"{base_url}/accounts/saml/{SLUG}/acs/") in seen


def test_saml_sign_in_maps_the_groups_attribute_to_teams_and_ownership(page, live_server, saml):
    page.goto(f"{live_server.url}/accounts/login/")
    shot(page, "saml-login")
    sign_in_with_saml(page, live_server.url, "pat", "idp-pass-pat")
    assert page.url == f"{live_server.url}/"
    shot(page, "saml-home")
    user = get_user_model().objects.get(email="pat@example.com")
    stored = Identity.objects.get(user=user)
    assert_owns_through_teams(page, stored)  # groups attribute → mapping rule → catalog Group → ownership
    assert stored.provider == SLUG and stored.claims["provider_kind"] == "saml"
    assert stored.claim_groups == ["team-platform", "all-staff"]  # in the order the IdP sent them
    assert user.socialaccount_set.get().uid == "pat@idp.example"  # subject-id, as attribute_mapping says

    # The login explainer shows the SAML sign-in: provider, username attribute and groups.
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")
    event = LoginEvent.objects.get(user=user)
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/portal/loginevent/{event.pk}/change/")
    sign_in(page, "root", "pw-root-12345")
    text = page.locator(".explainer").inner_text()
    assert "Corporate SSO" in text and "pat@example.com" in text
    assert "team-platform" in text and "group:default/platform" in text
    shot(page, "saml-explainer")


def test_a_replayed_saml_response_signs_nobody_in(page, browser, live_server, saml, idp):
    """A valid Response captured after use, posted again: by another browser, and by the same one."""
    sign_in_with_saml(page, live_server.url, "pat", "idp-pass-pat")
    captured = idp.sent[-1]
    assert LoginEvent.objects.count() == 1
    other = browser.new_context()
    try:
        replay = other.request.post(f"{live_server.url}/accounts/saml/{SLUG}/acs/", form={"SAMLResponse": captured})
        assert replay.status == 403  # it answers no AuthnRequest of this browser's session
        assert "sessionid" not in {cookie["name"] for cookie in other.cookies()}
    finally:
        other.close()
    # The same browser, still signed in: the AuthnRequest it answered was used up by the first sign-in.
    replay = page.request.post(f"{live_server.url}/accounts/saml/{SLUG}/acs/", form={"SAMLResponse": captured})
    assert replay.status == 403
    assert LoginEvent.objects.count() == 1


def test_saml_person_missing_from_the_catalog_gets_in_and_is_flagged(page, live_server, saml):
    sign_in_with_saml(page, live_server.url, "newbie", "idp-pass-new")
    body = page.locator("main").inner_text()
    assert "not linked to a User entity" in body
    assert "Deploy Bot" in body  # their team still comes from the SAML groups attribute
    identity = Identity.objects.get(user__email="newbie@example.com")
    assert identity.needs_review and identity.claims["username"] == "newbie"
    assert identity.mapped_group_refs == ["group:default/platform"]


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("mallory", "idp-pass-m", "Signature validation failed"),
        ("plain", "idp-pass-p", "No Signature found"),
        ("elsewhere", "idp-pass-e", "is not a valid audience for this Response"),
    ],
)
def test_a_bad_saml_response_signs_nobody_in(page, live_server, saml, username, password, reason):
    sign_in_with_saml(page, live_server.url, username, password)
    assert "/accounts/saml/corp/acs/finish/" in page.url
    error = page.locator("#sso-error").inner_text()
    assert "Corporate SSO did not sign you in" in error and reason in error
    shot(page, f"saml-rejected-{username}")
    assert not get_user_model().objects.filter(email=f"{username}@example.com").exists()
    assert not Identity.objects.exists() and not LoginEvent.objects.exists()
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # still nobody signed in
