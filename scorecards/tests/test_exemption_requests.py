"""Exemption requests: owners ask from the entity tab or the API, the scorecard's owners (or holders of
scorecards.exemption.approve) decide; every step is audited and notified."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Entity
from catalog.ownership import person
from portal.models import ApiToken, AuditEvent, Notification, Role, RoleGrant
from scorecards import evaluator, exemptions
from scorecards.models import Exemption, RuleResult, Scorecard

pytestmark = pytest.mark.django_db

LEDGER = "component:default/ledger"


def user(name: str, **fields):
    row = get_user_model().objects.create_user(name, f"{name}@example.com", "pw-12345-long", **fields)
    person(row)  # resolves and stores the identity (user:default/<name> by username, its groups)
    return row


@pytest.fixture
def org(scored_org):
    evaluator.evaluate()
    return Entity.objects.get(ref=LEDGER), Scorecard.objects.get()


def test_an_owner_requests_and_the_scorecard_owner_approves(org, django_capture_on_commit_callbacks):
    ledger, card = org
    pat, sam, outsider = user("pat"), user("sam"), user("olga")
    card.spec = {**card.spec, "owner": "user:default/sam"}
    card.save()
    assert exemptions.may_request(pat, ledger) and not exemptions.may_request(outsider, ledger)
    row = exemptions.request_exemption(pat, ledger, card, "described", "Docs move next quarter")
    assert row.state == "pending" and row.expires_at > timezone.now() + timedelta(days=179)
    assert [n.user for n in Notification.objects.filter(category="scorecards.exemption-requested")] == [sam]
    with pytest.raises(PermissionDenied):
        exemptions.approve(outsider, row)
    with django_capture_on_commit_callbacks(execute=True):
        exemptions.approve(sam, row, "fine until Q3")
    row.refresh_from_db()
    assert (row.state, row.approved_by, row.decision_note) == ("approved", "sam", "fine until Q3")
    decided = Notification.objects.get(category="scorecards.exemption-decided")
    assert decided.user == pat and "approved" in decided.title and decided.url.endswith("/ledger/scorecards/")
    assert RuleResult.objects.get(entity_ref=LEDGER, rule_id="described").status == "exempt"  # re-scored now
    events = AuditEvent.objects.filter(action__startswith="scorecards.exemption")
    assert sorted(events.values_list("action", flat=True)) == [
        "scorecards.exemption.approved", "scorecards.exemption.requested"]  # fmt: skip
    with pytest.raises(ValidationError, match="already approved"):
        exemptions.deny(sam, row)


def test_requests_are_checked_field_by_field(org, settings):
    ledger, card = org
    pat = user("pat")
    too_far = timezone.now() + timedelta(days=settings.SCORECARDS_EXEMPTION_MAX_DAYS + 5)
    with pytest.raises(ValidationError) as caught:
        exemptions.request_exemption(pat, ledger, card, "lifecycle-set", "  ", too_far)
    errors = caught.value.message_dict
    assert "Say why" in errors["reason"][0] and "At most 180 days" in errors["expires_at"][0]
    assert "does not fail for component:default/ledger (it is passed)" in errors["rule_id"][0]
    exemptions.request_exemption(pat, ledger, card, "described", "later")
    with pytest.raises(ValidationError, match="already pending or approved"):
        exemptions.request_exemption(pat, ledger, card, "described", "again")


def test_a_denied_request_tells_the_requester_and_may_be_asked_again(org, admin_user):
    ledger, card = org
    pat = user("pat")
    row = exemptions.request_exemption(pat, ledger, card, "described", "later")
    exemptions.deny(admin_user, row, "write the description")
    row.refresh_from_db()
    assert row.state == "denied" and row.denied_by == admin_user.get_username()
    note = Notification.objects.get(category="scorecards.exemption-decided")
    assert note.user == pat and "denied" in note.title and "write the description" in note.body
    exemptions.request_exemption(pat, ledger, card, "described", "please")  # a new request is allowed


def test_holders_of_the_approve_action_decide_any_scorecard(org):
    ledger, card = org
    pat, judge = user("pat"), user("judge")
    role = Role.objects.create(slug="exemption-approver", name="Exemption approver",
                               actions=["scorecards.exemption.approve"])  # fmt: skip
    RoleGrant.objects.create(name="judges", role=role, user=judge)
    row = exemptions.request_exemption(pat, ledger, card, "docs", "no docs site yet")
    assert exemptions.may_decide(judge, card) and list(exemptions.decidable(judge)) == [row]
    assert list(exemptions.decidable(user("olga"))) == []


def test_the_tab_form_and_the_approvers_page(org, client):
    _, card = org
    pat, sam = user("pat"), user("sam")  # both in group:default/payments, which owns the scorecard too
    client.force_login(pat)
    tab = client.get("/catalog/default/component/ledger/scorecards/").content.decode()
    assert tab.count("Request exemption") == 2  # described and docs fail; passing rules have no button
    url = f"/scorecards/{card.pk}/rules/described/exemption/"
    form = client.get(url, {"entity": LEDGER}, HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    refused = client.post(url, {"entity": LEDGER, "reason": "", "expires_on": "2999-01-01"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and "This field is required" in refused.content.decode()
    sent = client.post(url, {"entity": LEDGER, "reason": "Docs move next quarter"}, HTTP_HX_REQUEST="true")
    assert sent.status_code == 200 and "exemption requested" in sent.content.decode()
    assert "exemption requested" in client.get("/catalog/default/component/ledger/scorecards/").content.decode()
    client.force_login(sam)
    page = client.get("/scorecards/exemptions/").content.decode()
    assert "Docs move next quarter" in page and "Approve" in page
    row = Exemption.objects.get()
    decided = client.post(f"/scorecards/exemptions/{row.pk}/deny/", {"note": "not now"}, HTTP_HX_REQUEST="true")
    assert decided.status_code == 200 and "exemption denied" in decided.content.decode()
    client.force_login(user("olga"))
    assert client.post(f"/scorecards/exemptions/{row.pk}/approve/").status_code == 404
    assert client.get(url, {"entity": LEDGER}).status_code == 403


def bearer(owner, scopes):
    _, raw = ApiToken.issue(owner, name="t", scopes=scopes)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_the_api_requests_lists_and_decides_with_the_write_scope(org):
    pat, sam = user("pat"), user("sam")
    body = {"entityRef": LEDGER, "scorecard": "scorecard:default/production-readiness", "rule": "docs",
            "reason": "no docs site yet"}  # fmt: skip
    assert bearer(pat, ["catalog:read"]).post("/api/scorecards/exemptions", body, format="json").status_code == 403
    api = bearer(pat, ["catalog:read", "scorecards:write"])
    bad = api.post("/api/scorecards/exemptions", {**body, "expiresAt": "tomorrow"}, format="json")
    assert bad.status_code == 400 and "expiresAt" in bad.json()["errors"]
    missing = api.post("/api/scorecards/exemptions", {"entityRef": LEDGER}, format="json")
    assert set(missing.json()["errors"]) == {"scorecard", "rule", "reason"}
    created = api.post("/api/scorecards/exemptions", body, format="json")
    assert created.status_code == 201 and created.json()["state"] == "pending"
    listed = bearer(sam, ["catalog:read"]).get("/api/scorecards/exemptions", {"state": "pending"}).json()["items"]
    assert [i["id"] for i in listed] == [created.json()["id"]]
    approver = bearer(sam, ["catalog:read", "scorecards:write"])
    decided = approver.post(f"/api/scorecards/exemptions/{created.json()['id']}/approve", {"note": "ok"}, format="json")
    assert decided.status_code == 200 and decided.json()["state"] == "approved" and decided.json()["decidedBy"] == "sam"
    again = approver.post(f"/api/scorecards/exemptions/{created.json()['id']}/deny", {}, format="json")
    assert again.status_code == 400 and "already approved" in str(again.json())
    assert bearer(user("olga"), ["catalog:read", "scorecards:write"]).post(
        f"/api/scorecards/exemptions/{created.json()['id']}/deny", {}, format="json").status_code == 404  # fmt: skip


def test_the_admin_actions_decide_through_the_same_service(org, admin_client):
    ledger, card = org
    pat = user("pat")
    first = exemptions.request_exemption(pat, ledger, card, "described", "later")
    second = exemptions.request_exemption(pat, ledger, card, "docs", "no docs yet")
    admin_client.post("/admin/scorecards/exemption/", {"action": "deny", "_selected_action": [first.pk]})
    admin_client.post("/admin/scorecards/exemption/", {"action": "approve", "_selected_action": [first.pk, second.pk]})
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.state, second.state) == ("denied", "approved")  # a denied request is not approved later
    assert AuditEvent.objects.filter(action="scorecards.exemption.denied").count() == 1
    assert Notification.objects.filter(user=pat, category="scorecards.exemption-decided").count() == 2
