"""SAML configuration checks, and claims from real signed SAML Responses as python3-saml validates them.

The Responses come from the test IdP's own builder (portal/testing/saml), signed with a fresh key; allauth's
SAML provider processes them exactly as its ACS view does (no browser here: see
catalog/tests/test_saml_browser.py for the whole flow).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import RequestFactory

from portal.auth.claims import claims_from_sociallogin
from portal.auth.providers import ProviderConfigError, build_providers, saml_apps, saml_unavailable_reason
from portal.settings.env import env

IDP = {"entity_id": "https://idp.example.com/saml", "metadata_url": "https://idp.example.com/saml/metadata"}
IDP_JSON = json.dumps(IDP)


# --- CALLBOARD_SAML_PROVIDERS ----------------------------------------------------------------------


def test_saml_apps_from_json_default_their_provider_id_to_the_slug():
    idp = {"entity_id": "https://idp.example.com", "sso_url": "https://idp.example.com/sso", "x509cert": "MIIC..."}
    settings = {"idp": idp, "groups_attribute": ["groups", "memberOf"]}
    spec = {"client_id": "corp", "name": "Corporate SSO", "settings": settings}
    (app,) = saml_apps(json.dumps([spec]))
    assert (app["provider_id"], app["client_id"], app["name"]) == ("corp", "corp", "Corporate SSO")
    assert app["settings"]["groups_attribute"] == ["groups", "memberOf"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "CALLBOARD_SAML_PROVIDERS is not valid JSON"),
        ('{"client_id": "x"}', "must be a JSON list"),
        ('[{"client_id": "a b", "settings": {"idp": {}}}]', "CALLBOARD_SAML_PROVIDERS[0]: client_id (the URL slug"),
        ('[{"client_id": "x"}]', "CALLBOARD_SAML_PROVIDERS[0]: settings.idp is required"),
        ('[{"client_id": "x", "settings": {"idp": {"metadata_url": "https://i"}}}]', "idp.entity_id is required"),
        ('[{"client_id": "x", "settings": {"idp": {"entity_id": "e", "sso_url": "https://i"}}}]',
         "needs metadata_url, or both sso_url and x509cert"),
        ('[{"client_id": "x", "settings": {"idp": ' + IDP_JSON + ', "groups_attribute": 3}}]',
         "groups_attribute must be a string or a list of strings"),
        ('[{"client_id": "x", "settings": {"idp": ' + IDP_JSON + '}}, {"client_id": "x",'
         ' "settings": {"idp": ' + IDP_JSON + "}}]", "unique: x"),
    ],
)  # fmt: skip
def test_bad_saml_json_is_refused_with_a_located_message(value, message):
    with pytest.raises(ProviderConfigError, match=re.escape(message)):
        saml_apps(value)


def test_saml_provider_is_installed_and_configured_from_the_environment(monkeypatch):
    if reason := saml_unavailable_reason():
        pytest.skip(f"SAML support cannot run here: {reason}")
    providers, apps = build_providers(env)
    assert "allauth.socialaccount.providers.saml" in apps and providers["saml"]["APPS"] == []  # admins may add
    monkeypatch.setenv("CALLBOARD_SAML_PROVIDERS", json.dumps([{"client_id": "corp", "settings": {"idp": IDP}}]))
    providers, _ = build_providers(env)
    assert [app["provider_id"] for app in providers["saml"]["APPS"]] == ["corp"]


def test_saml_configured_where_its_libraries_cannot_load_stops_with_what_to_install():
    """A Python where xmlsec cannot be imported (blocked in sys.modules, in a child process)."""
    code = (
        "import os, sys\n"
        "sys.modules['xmlsec'] = None\n"
        "from portal.auth.providers import build_providers, saml_available\n"
        "from portal.settings.env import env\n"
        "assert not saml_available()\n"
        "providers, apps = build_providers(env)\n"  # not configured: no SAML, and no complaint
        "assert 'saml' not in providers and not [a for a in apps if 'saml' in a], apps\n"
        "os.environ['CALLBOARD_SAML_PROVIDERS'] = '[]'\n"
        "build_providers(env)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if k != "CALLBOARD_SAML_PROVIDERS"}, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "CALLBOARD_SAML_PROVIDERS is set but SAML support cannot run" in result.stderr
    assert "libxmlsec1-dev" in result.stderr


# --- Claims from signed Responses ----------------------------------------------------------------

ENTRA = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"


@pytest.fixture
def saml_response(db, settings):
    """``login(settings, groups_attribute=...)``: a SocialLogin from a real, validated SAML Response."""
    if reason := saml_unavailable_reason():
        pytest.skip(f"SAML support cannot run here: {reason}")
    from allauth.socialaccount.providers.saml.utils import build_auth

    from portal.testing.saml import AuthnRequest, SamlIdp, SamlUser, response_xml, self_signed

    settings.ALLOWED_HOSTS = ["sp.example.com"]
    sp = "http://sp.example.com/accounts/saml/corp"
    user = SamlUser("kim", "-", "Kim@Example.com", ["team-a", "team-b", "team-a"])
    key, cert = self_signed("idp.example.com")

    def login(app_settings: dict, groups_attribute: str = ENTRA):
        idp = SamlIdp(f"{sp}/metadata/", f"{sp}/acs/", [user], groups_attribute, base_url="https://idp.example.com",
                      key_pem=key, cert_pem=cert)  # fmt: skip
        app, _ = SocialApp.objects.update_or_create(
            provider="saml", provider_id="corp",
            defaults={"name": "Corp", "client_id": "corp",
                      "settings": {"idp": {"entity_id": idp.entity_id, "sso_url": idp.sso_url,
                                           "x509cert": idp.cert_b64}, **app_settings}},
        )  # fmt: skip
        xml = response_xml(idp, user, AuthnRequest(id="_req-1", issuer=idp.sp_entity_id, acs_url=idp.acs_url))
        request = RequestFactory().post(
            "/accounts/saml/corp/acs/", {"SAMLResponse": base64.b64encode(xml.encode()).decode()},
            HTTP_HOST="sp.example.com",
        )  # fmt: skip
        provider = app.get_provider(request)
        auth = build_auth(request, provider)
        auth.process_response(request_id=None)
        assert not auth.get_errors(), auth.get_last_error_reason()
        return provider.sociallogin_from_response(request, auth)

    return login


def test_saml_groups_come_from_the_first_default_attribute_present(saml_response):
    claims = claims_from_sociallogin(saml_response({}))
    assert claims["provider"] == "corp" and claims["provider_kind"] == "saml" and claims["provider_name"] == "Corp"
    assert claims["groups"] == ["team-a", "team-b"]  # multi-valued, deduplicated, in the IdP's order
    assert claims["email"] == "kim@example.com"  # allauth's default mapping knows urn:oid:0.9.2342.19200300.100.1.3


def test_saml_groups_attribute_setting_names_the_attribute(saml_response):
    claims = claims_from_sociallogin(saml_response({"groups_attribute": "roles"}, groups_attribute="roles"))
    assert claims["groups"] == ["team-a", "team-b"]
    claims = claims_from_sociallogin(saml_response({"groups_attribute": "roles"}, groups_attribute="memberOf"))
    assert claims["groups"] == []  # configured attribute absent: no groups, never a guess
    claims = claims_from_sociallogin(saml_response({"groups_attribute": ""}))
    assert claims["groups"] == []  # switched off


def test_saml_username_and_annotation_through_attribute_mapping(saml_response):
    uid = "urn:oid:0.9.2342.19200300.100.1.1"
    sociallogin = saml_response(
        {"attribute_mapping": {"uid": "urn:oasis:names:tc:SAML:attribute:subject-id", "username": uid},
         "annotation": "example.com/saml-uid", "annotation_claim": "username"}
    )  # fmt: skip
    claims = claims_from_sociallogin(sociallogin)
    assert sociallogin.account.uid == "kim@idp.example"
    assert claims["username"] == "kim" and claims["annotations"] == {"example.com/saml-uid": "kim"}
    assert claims["email"] == "kim@example.com"  # email unmapped here: from the NameID


def test_sp_metadata_tells_the_idp_admin_what_to_register(client, db):
    """What an IdP admin imports: the SP entity id and the ACS URL (HTTP-POST) under /accounts/saml/<slug>/."""
    if reason := saml_unavailable_reason():
        pytest.skip(f"SAML support cannot run here: {reason}")
    from portal.testing.saml import base64_der, self_signed

    x509 = base64_der(self_signed("idp.example.com")[1])
    SocialApp.objects.create(
        provider="saml", provider_id="corp", name="Corp", client_id="corp",
        settings={"idp": {"entity_id": "https://idp.example.com", "sso_url": "https://idp.example.com/sso",
                          "x509cert": x509}},
    )  # fmt: skip
    response = client.get("/accounts/saml/corp/metadata/", HTTP_HOST="localhost")
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    xml = response.content.decode()
    assert 'entityID="http://localhost/accounts/saml/corp/metadata/"' in xml
    assert 'Location="http://localhost/accounts/saml/corp/acs/"' in xml and "HTTP-POST" in xml


def test_installed_saml_libraries_load():
    """requirements.txt installs them: an lxml/xmlsec libxml2 mismatch must fail here, not skip the SAML tests."""
    try:
        installed = version("xmlsec"), version("lxml"), version("python3-saml")
    except PackageNotFoundError as exc:
        pytest.skip(f"{exc} is not installed (requirements.txt installs it)")
    assert saml_unavailable_reason() == "", f"xmlsec/lxml/python3-saml {installed}"


def test_saml_annotation_from_a_raw_attribute_name(saml_response):
    settings = {"annotation": "example.com/saml-uid", "annotation_claim": "urn:oid:0.9.2342.19200300.100.1.1",
                "groups_attribute": ["roles", ENTRA]}  # fmt: skip
    claims = claims_from_sociallogin(saml_response(settings))
    assert claims["annotations"] == {"example.com/saml-uid": "kim"} and claims["groups"] == ["team-a", "team-b"]
