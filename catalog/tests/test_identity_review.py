"""Marking unmatched people reviewed ("stays unmatched, that's fine"): the admin action, the change page's form,
the filter, the audit trail, and when the flag comes back (a match, or another email)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from catalog import identity
from catalog.tests.sso_org import load_org
from portal.models import AuditEvent, Identity, LoginEvent

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/portal/identity/"


@pytest.fixture
def org(allow_tmp):
    return load_org(allow_tmp)


PASSWORD = "pw-12345-long"


def sign_in(client, username: str) -> None:
    """A real password sign-in (identity resolution runs on the login signal), then sign out again."""
    client.post("/accounts/login/", {"login": username, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    client.post("/accounts/logout/")


def newcomer(username: str = "casey", email: str = "casey@contractor.example"):
    return get_user_model().objects.create_user(username, email, PASSWORD)


def resolved(username: str, email: str) -> Identity:
    user = newcomer(username, email)
    return identity.store(user, identity.local_claims(user))


def test_admin_action_marks_reviewed_and_the_flag_stays_off_at_the_next_sign_in(client, admin_client, admin_user, org):
    user = newcomer()
    sign_in(client, "casey")
    flagged = Identity.objects.get(user=user)
    assert flagged.needs_review and flagged.reviewed_at is None
    response = admin_client.post(CHANGELIST, {"action": "mark_reviewed", "_selected_action": [flagged.pk]},
                                 follow=True)  # fmt: skip
    assert "Marked 1 identity reviewed." in response.content.decode()
    reviewed = Identity.objects.get(user=user)
    assert not reviewed.needs_review and reviewed.reviewed_by == "root" and reviewed.reviewed_at is not None
    assert reviewed.reviewed_email == "casey@contractor.example"
    (event,) = AuditEvent.objects.filter(action="identity.reviewed")
    assert (event.actor, event.target_type, event.target_id) == (admin_user, "portal.identity", str(reviewed.pk))
    assert event.changes == {"email": "casey@contractor.example", "note": ""}

    sign_in(client, "casey")  # nothing changed: still unmatched, same email
    again = Identity.objects.get(user=user)
    assert not again.needs_review and again.reviewed_at == reviewed.reviewed_at
    assert LoginEvent.objects.filter(user=user).latest("at").needs_review is False
    assert not Identity.objects.needs_review().exists()


def test_another_email_ends_the_review_and_flags_again(client, admin_user, org):
    user = newcomer()
    sign_in(client, "casey")
    identity.mark_reviewed(Identity.objects.filter(user=user), admin_user, "contractor")
    user.email = "casey@elsewhere.example"
    user.save()
    sign_in(client, "casey")
    stored = Identity.objects.get(user=user)
    assert stored.needs_review and stored.reviewed_at is None and stored.reviewed_by == ""
    (event,) = AuditEvent.objects.filter(action="identity.review_cleared")
    assert event.actor_repr == "system" and event.changes["reason"] == "the sign-in's email changed"
    assert event.changes["email"] == "casey@contractor.example" and event.changes["reviewed_by"] == "root"


def test_a_later_match_ends_the_review(settings, admin_user, org):
    settings.IDENTITY_RESOLVERS = ["email"]
    user = newcomer("sam", "sam@contractor.example")
    identity.store(user, identity.local_claims(user), login=True)
    assert identity.mark_reviewed(Identity.objects.filter(user=user), admin_user) == 1
    settings.IDENTITY_RESOLVERS = ["email", "username"]  # now the catalog's User "sam" matches
    stored = identity.store(user, identity.local_claims(user))
    assert stored.entity_ref == "user:default/sam" and not stored.needs_review and stored.reviewed_at is None
    reason = AuditEvent.objects.get(action="identity.review_cleared").changes["reason"]
    assert reason == "matched user:default/sam"
    # Unmatched again later (the entity left the catalog, say): flagged again, the old review is gone.
    settings.IDENTITY_RESOLVERS = ["email"]
    assert identity.store(user, identity.local_claims(user)).needs_review


def test_matched_and_already_reviewed_identities_are_skipped(admin_client, admin_user, org):
    matched, loose = resolved("pat", "pat@example.com"), resolved("casey", "casey@contractor.example")
    identity.mark_reviewed([loose], admin_user)
    response = admin_client.post(CHANGELIST, {"action": "mark_reviewed", "_selected_action": [matched.pk, loose.pk]},
                                 follow=True)  # fmt: skip
    assert "Marked 0 identities reviewed (2 skipped: matched or already reviewed)." in response.content.decode()
    assert AuditEvent.objects.filter(action="identity.reviewed").count() == 1


def test_change_page_form_marks_with_a_note_and_clears(client, admin_client, org):
    user = newcomer()
    sign_in(client, "casey")
    pk = Identity.objects.get(user=user).pk
    page = admin_client.get(f"{CHANGELIST}{pk}/change/").content.decode()
    assert 'name="review_note"' in page and f'formaction="{CHANGELIST}{pk}/review/"' in page
    assert "Mark reviewed" in page and "flagged for review" in page
    response = admin_client.post(f"{CHANGELIST}{pk}/review/", {"review": "mark", "review_note": "  contractor  "})
    assert response.status_code == 302 and response["Location"] == f"{CHANGELIST}{pk}/change/"
    stored = Identity.objects.get(pk=pk)
    assert stored.review_note == "contractor" and not stored.needs_review
    page = admin_client.get(f"{CHANGELIST}{pk}/change/").content.decode()
    assert "Reviewed</strong> by <code>root</code>" in page and "Note: contractor" in page
    assert "Clear the review" in page and "an admin reviewed this" in page
    admin_client.post(f"{CHANGELIST}{pk}/review/", {"review": "clear"})
    stored = Identity.objects.get(pk=pk)
    assert stored.needs_review and stored.reviewed_at is None and stored.review_note == ""
    assert AuditEvent.objects.get(action="identity.review_cleared").changes["reason"] == "cleared by an admin"
    assert admin_client.get(f"{CHANGELIST}{pk}/review/").status_code == 405  # POST only
    assert admin_client.post(f"{CHANGELIST}999999/review/", {"review": "mark"}).status_code == 404


def test_staff_who_may_only_view_identities_cannot_review(client, org):
    newcomer()
    sign_in(client, "casey")
    pk = Identity.objects.get().pk
    viewer = get_user_model().objects.create_user("viewer", "v@example.com", PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_identity"))
    client.force_login(viewer)
    page = client.get(f"{CHANGELIST}{pk}/change/").content.decode()
    assert "flagged for review" in page and "Mark reviewed" not in page and 'name="review_note"' not in page
    assert "mark_reviewed" not in client.get(CHANGELIST).content.decode()
    assert client.post(f"{CHANGELIST}{pk}/review/", {"review": "mark"}).status_code == 403
    assert Identity.objects.get(pk=pk).needs_review


def test_review_filter_needs_review_reviewed_and_matched(client, admin_client, admin_user, org):
    resolved("pat", "pat@example.com")
    flagged = resolved("casey", "casey@contractor.example")
    reviewed = resolved("robin", "robin@contractor.example")
    identity.mark_reviewed([reviewed], admin_user)

    def listed(value: str) -> set[str]:
        page = admin_client.get(f"{CHANGELIST}?review={value}").content.decode()
        return {name for name in ("pat", "casey", "robin") if f">{name}</a>" in page}

    assert listed("needs") == {"casey"} and flagged.needs_review
    assert listed("reviewed") == {"robin"}
    assert listed("matched") == {"pat"}
    page = admin_client.get(CHANGELIST).content.decode()
    assert "Unmatched, reviewed" in page and "unmatched — reviewed" in page
