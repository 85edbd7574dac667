"""A real SAML 2.0 identity provider for tests, served on 127.0.0.1 from a thread of the test process.

It speaks the Web Browser SSO profile as Okta, Entra ID or Keycloak do: it publishes metadata with a freshly
generated self-signed signing certificate, takes the service provider's AuthnRequest over the HTTP-Redirect
binding (``GET /sso?SAMLRequest=…``), signs people in on its own form, and returns a signed Response through an
auto-submitting HTML form (HTTP-POST binding) to the ACS URL registered for the SP. Signing is xmlsec's
(through python3-saml's ``OneLogin_Saml2_Utils.add_sign``); nothing on the service provider's side is patched.

Each person may carry a ``fault`` to make the IdP misbehave the way a broken or hostile one would:
``"unsigned"`` (no signature at all), ``"tampered"`` (signed, then a group added) or ``"wrong-audience"``
(signed, but for another service provider).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import secrets
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from portal.testing.httpserver import serve_http

EMAIL_ATTRIBUTE = "urn:oid:0.9.2342.19200300.100.1.3"
SUBJECT_ID_ATTRIBUTE = "urn:oasis:names:tc:SAML:attribute:subject-id"
UID_ATTRIBUTE = "urn:oid:0.9.2342.19200300.100.1.1"
ENTRA_GROUPS_ATTRIBUTE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
FAULTS = ("unsigned", "tampered", "wrong-audience")


@dataclass
class SamlUser:
    username: str
    password: str
    email: str
    groups: list[str] = field(default_factory=list)
    fault: str = ""


@dataclass
class SamlIdp:
    """What the IdP knows: its people and the one service provider it trusts (entity id and ACS URL)."""

    sp_entity_id: str
    acs_url: str
    users: list[SamlUser]
    groups_attribute: str = ENTRA_GROUPS_ATTRIBUTE
    host: str = "127.0.0.1"
    base_url: str = ""
    key_pem: str = ""
    cert_pem: str = ""
    sent: list[str] = field(default_factory=list)  # every base64 SAMLResponse posted back, for replay tests

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/sso"

    @property
    def cert_b64(self) -> str:
        return base64_der(self.cert_pem)


def base64_der(pem: str) -> str:
    """A certificate as metadata and allauth's ``x509cert`` carry it: base64 DER, no PEM armour."""
    return "".join(line for line in pem.splitlines() if "-----" not in line)


def self_signed(common_name: str) -> tuple[str, str]:
    """A 2048-bit RSA key and a one-day self-signed certificate for it, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def _instant(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def metadata_xml(idp: SamlIdp) -> str:
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    entityID={quoteattr(idp.entity_id)}>
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="{C.NS_SAMLP}">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{idp.cert_b64}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>{C.NAMEID_EMAIL_ADDRESS}</md:NameIDFormat>
    <md:SingleSignOnService Binding="{C.BINDING_HTTP_REDIRECT}" Location={quoteattr(idp.sso_url)}/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


@dataclass
class AuthnRequest:
    id: str
    issuer: str
    acs_url: str


def parse_authn_request(encoded: str) -> AuthnRequest:
    """An HTTP-Redirect AuthnRequest: base64 of raw DEFLATE of the XML."""
    xml = zlib.decompress(base64.b64decode(encoded), -15)
    root = OneLogin_Saml2_XML.to_etree(xml)
    if root.tag != f"{{{C.NS_SAMLP}}}AuthnRequest":
        raise ValueError(f"expected an AuthnRequest, got {root.tag}")
    issuer = root.find(f"{{{C.NS_SAML}}}Issuer")
    return AuthnRequest(
        id=root.get("ID", ""),
        issuer=(issuer.text or "").strip() if issuer is not None else "",
        acs_url=root.get("AssertionConsumerServiceURL", ""),
    )


def _attribute(name: str, values: list[str]) -> str:
    items = "".join(f'<saml:AttributeValue xsi:type="xs:string">{escape(v)}</saml:AttributeValue>' for v in values)
    return f'<saml:Attribute Name={quoteattr(name)} NameFormat="{C.ATTRNAME_FORMAT_URI}">{items}</saml:Attribute>'


def response_xml(idp: SamlIdp, user: SamlUser, request: AuthnRequest) -> str:
    """The signed Response (assertion signed, then the whole message) for ``user``, faults applied."""
    now = dt.datetime.now(dt.UTC)
    audience = "https://another-service.example/saml" if user.fault == "wrong-audience" else idp.sp_entity_id
    attributes = "".join(
        [
            _attribute(SUBJECT_ID_ATTRIBUTE, [f"{user.username}@idp.example"]),
            _attribute(UID_ATTRIBUTE, [user.username]),
            _attribute(EMAIL_ATTRIBUTE, [user.email]),
            _attribute(idp.groups_attribute, user.groups),
        ]
    )
    issuer = f"<saml:Issuer>{escape(idp.entity_id)}</saml:Issuer>"
    assertion = f"""<saml:Assertion xmlns:saml="{C.NS_SAML}" xmlns:xs="{C.NS_XS}" xmlns:xsi="{C.NS_XSI}"
    ID="_{secrets.token_hex(16)}" Version="2.0" IssueInstant="{_instant(now)}">{issuer}<saml:Subject>
  <saml:NameID Format="{C.NAMEID_EMAIL_ADDRESS}">{escape(user.email)}</saml:NameID>
  <saml:SubjectConfirmation Method="{C.CM_BEARER}"><saml:SubjectConfirmationData
      NotOnOrAfter="{_instant(now + dt.timedelta(minutes=5))}" Recipient={quoteattr(request.acs_url)}
      InResponseTo={quoteattr(request.id)}/></saml:SubjectConfirmation></saml:Subject>
  <saml:Conditions NotBefore="{_instant(now - dt.timedelta(minutes=1))}"
      NotOnOrAfter="{_instant(now + dt.timedelta(minutes=5))}">
    <saml:AudienceRestriction><saml:Audience>{escape(audience)}</saml:Audience></saml:AudienceRestriction>
  </saml:Conditions>
  <saml:AuthnStatement AuthnInstant="{_instant(now)}" SessionIndex="_{secrets.token_hex(8)}"><saml:AuthnContext>
    <saml:AuthnContextClassRef>{C.AC_PASSWORD_PROTECTED}</saml:AuthnContextClassRef></saml:AuthnContext>
  </saml:AuthnStatement>
  <saml:AttributeStatement>{attributes}</saml:AttributeStatement>
</saml:Assertion>"""
    sign = user.fault != "unsigned"
    if sign:
        assertion = _signed(idp, assertion)
    response = f"""<samlp:Response xmlns:samlp="{C.NS_SAMLP}" xmlns:saml="{C.NS_SAML}" ID="_{secrets.token_hex(16)}"
    Version="2.0" IssueInstant="{_instant(now)}" Destination={quoteattr(request.acs_url)}
    InResponseTo={quoteattr(request.id)}>{issuer}<samlp:Status><samlp:StatusCode
    Value="{C.STATUS_SUCCESS}"/></samlp:Status>{assertion}</samlp:Response>"""
    if sign:
        response = _signed(idp, response)
    if user.fault == "tampered":  # after signing: what an attacker in the middle would try
        end = "</saml:Attribute></saml:AttributeStatement>"  # after the groups attribute's last value
        extra = '<saml:AttributeValue xsi:type="xs:string">team-admins</saml:AttributeValue>'
        if end not in response:
            raise AssertionError("test IdP: found no groups attribute to tamper with")
        response = response.replace(end, extra + end, 1)
    return response


def _signed(idp: SamlIdp, xml: str) -> str:
    signed = OneLogin_Saml2_Utils.add_sign(
        xml, idp.key_pem, idp.cert_pem, sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256
    )
    text = signed.decode() if isinstance(signed, bytes) else signed
    return text.split("?>", 1)[1].lstrip() if text.startswith("<?xml") else text


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:15px system-ui,sans-serif;background:#1f2d3d;color:#222;display:grid;place-items:center;
min-height:90vh}}main{{background:#fff;padding:2rem 2.5rem;border-radius:8px;min-width:22rem}}
h1{{font-size:1.2rem;margin:0 0 1rem}}label{{display:block;margin:.6rem 0 .2rem}}input{{width:100%;padding:.4rem}}
button{{margin-top:1rem;padding:.5rem 1rem}}.error{{color:#b00020}}</style></head><body><main>{body}</main>
</body></html>"""


class _Handler(BaseHTTPRequestHandler):
    idp: SamlIdp  # set on the subclass made for each server

    def log_message(self, format, *args) -> None:
        pass

    def _send(self, status: int, body: str, content_type: str = "text/html; charset=utf-8") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, message: str) -> None:
        body = f"<h1>Test IdP: request refused</h1><p class=error>{html.escape(message)}</p>"
        self._send(400, PAGE.format(title="Refused", body=body))

    def _request(self, fields: dict[str, list[str]]) -> AuthnRequest | None:
        """The SP's AuthnRequest, refused unless it comes from the SP this IdP trusts, for its ACS URL."""
        encoded = (fields.get("SAMLRequest") or [""])[0]
        try:
            request = parse_authn_request(encoded)
        except Exception as exc:
            self._error(f"unreadable SAMLRequest: {exc}")
            return None
        if request.issuer != self.idp.sp_entity_id:
            self._error(f"unknown service provider {request.issuer!r}")
            return None
        if request.acs_url and request.acs_url != self.idp.acs_url:
            self._error(f"ACS URL {request.acs_url!r} is not registered")
            return None
        request.acs_url = self.idp.acs_url
        return request

    def _login_form(self, fields: dict[str, list[str]], error: str = "") -> str:
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape((fields.get(name) or [""])[0])}">'
            for name in ("SAMLRequest", "RelayState")
        )
        shown = f'<p class=error id="idp-error">{html.escape(error)}</p>' if error else ""
        body = f"""<h1>Test SAML IdP: sign in</h1>{shown}
<form method="post" action="/sso">{hidden}
<label for="idp-username">Username</label><input id="idp-username" name="username" autocomplete="off">
<label for="idp-password">Password</label><input id="idp-password" name="password" type="password">
<button id="idp-submit" type="submit">Sign in</button></form>"""
        return PAGE.format(title="Test SAML IdP", body=body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/metadata":
            self._send(200, metadata_xml(self.idp), "application/samlmetadata+xml")
        elif url.path == "/sso":
            fields = parse_qs(url.query)
            if self._request(fields):
                self._send(200, self._login_form(fields))
        else:
            self._send(404, PAGE.format(title="Not found", body="<h1>Not found</h1>"))

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/sso":
            self._send(404, PAGE.format(title="Not found", body="<h1>Not found</h1>"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        fields = parse_qs(self.rfile.read(length).decode())
        request = self._request(fields)
        if request is None:
            return
        username, password = (fields.get("username") or [""])[0], (fields.get("password") or [""])[0]
        user = next((u for u in self.idp.users if u.username == username), None)
        if user is None or not secrets.compare_digest(user.password, password):
            self._send(200, self._login_form(fields, "Wrong username or password."))
            return
        saml_response = base64.b64encode(response_xml(self.idp, user, request).encode()).decode()
        self.idp.sent.append(saml_response)
        relay = (fields.get("RelayState") or [""])[0]
        body = f"""<h1>Signed in as {html.escape(user.username)}</h1><p>Returning to the application…</p>
<form method="post" action={quoteattr(request.acs_url)} id="saml-post">
<input type="hidden" name="SAMLResponse" value="{saml_response}">
<input type="hidden" name="RelayState" value="{html.escape(relay)}">
<noscript><button type="submit">Continue</button></noscript></form>
<script>document.getElementById("saml-post").submit();</script>"""
        self._send(200, PAGE.format(title="Signing in", body=body))


@contextmanager
def run_idp(idp: SamlIdp) -> Iterator[SamlIdp]:
    """Serve ``idp`` on ``http://HOST:<free port>`` until the block ends; fills in base_url, key and cert."""
    if not idp.key_pem:
        idp.key_pem, idp.cert_pem = self_signed(f"Test SAML IdP {idp.host}")
    with serve_http(type("SamlIdpHandler", (_Handler,), {"idp": idp}), idp.host) as url:
        idp.base_url = url
        yield idp
