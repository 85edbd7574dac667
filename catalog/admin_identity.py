"""Admin for SSO identities, group mapping rules and the login explainer.

The models live in portal (portal never imports catalog); their admin lives here because recomputing an
identity needs the catalog.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from catalog import identity
from portal.access import is_admin
from portal.models import GroupMappingRule, Identity, LoginEvent

EXPLAINER_TEMPLATE = "catalog/admin/explainer_change_form.html"


class ReviewFilter(admin.SimpleListFilter):
    title = "catalog match"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("needs", "Unmatched / needs review"), ("matched", "Matched to a User entity")]

    def queryset(self, request, queryset):
        if self.value() == "needs":
            return queryset.filter(needs_review=True)
        if self.value() == "matched":
            return queryset.exclude(entity_ref="")
        return queryset


class IdentityReviewFilter(ReviewFilter):
    """Identities can also be reviewed: unmatched, and an admin said that is fine."""

    def lookups(self, request, model_admin):
        needs, matched = super().lookups(request, model_admin)
        return [needs, ("reviewed", "Unmatched, reviewed"), matched]

    def queryset(self, request, queryset):
        if self.value() == "reviewed":
            return queryset.reviewed()
        return super().queryset(request, queryset)


def outcome_badge(obj) -> str:
    if obj.entity_ref:
        html = '<span style="color:#1d7a46">✔ {} <small>by {}</small></span>'
        return format_html(html, obj.entity_ref, obj.matched_by)
    if getattr(obj, "reviewed_at", None):
        html = '<span style="color:#5d6878">○ unmatched — reviewed <small>by {} on {}</small></span>'
        return format_html(html, obj.reviewed_by, f"{obj.reviewed_at:%Y-%m-%d}")
    if not obj.needs_review:
        return format_html('<span style="color:#5d6878">{}</span>', "○ unmatched (superuser, not flagged)")
    return format_html('<span style="color:#a86400;font-weight:600">{}</span>', "⚠ unmatched — needs review")


class ExplainerMixin:
    """Read-only change pages that show the resolution trace as the login explainer."""

    change_form_template = EXPLAINER_TEMPLATE

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"explained": obj, "trace": obj.trace if obj else {}, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)


def _identities(count: int) -> str:
    return f"{count} identit{'y' if count == 1 else 'ies'}"


@admin.register(Identity)
class IdentityAdmin(ExplainerMixin, admin.ModelAdmin):
    list_display = ["user", "outcome", "provider", "resolved_at"]
    list_filter = [IdentityReviewFilter, "matched_by", "provider"]
    search_fields = ["user__username", "user__email", "entity_ref"]
    list_select_related = ["user"]
    actions = ["recompute", "mark_reviewed", "clear_review"]

    @admin.display(description="catalog identity")
    def outcome(self, obj: Identity):
        return outcome_badge(obj)

    def has_review_permission(self, request) -> bool:
        """Platform admins (the access rules' ``admin``) mark people reviewed; viewing staff do not."""
        return is_admin(request.user)

    @admin.action(description="Recompute from the current catalog and rules")
    def recompute(self, request, queryset):
        count = identity.refresh_identities(queryset.values_list("user_id", flat=True))
        self.message_user(request, f"Recomputed {_identities(count)}.")

    @admin.action(description="Mark reviewed: stays unmatched, that's fine", permissions=["review"])
    def mark_reviewed(self, request, queryset):
        count = identity.mark_reviewed(queryset.select_related("user"), request.user)
        skipped = queryset.count() - count
        note = f" ({skipped} skipped: matched or already reviewed)" if skipped else ""
        self.message_user(request, f"Marked {_identities(count)} reviewed{note}.")

    @admin.action(description="Clear the review (flag unmatched people again)", permissions=["review"])
    def clear_review(self, request, queryset):
        count = identity.clear_review(queryset.select_related("user"), request.user)
        self.message_user(request, f"Cleared the review of {_identities(count)}.")

    def get_urls(self):
        review = self.admin_site.admin_view(require_POST(self.review_view))
        return [path("<path:object_id>/review/", review, name="portal_identity_review"), *super().get_urls()]

    def review_view(self, request, object_id):
        """The change page's review form: mark reviewed (with a note) or clear the review."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404("No such identity.")
        if not (self.has_view_permission(request, obj) and self.has_review_permission(request)):
            raise PermissionDenied("Only platform admins mark identities reviewed.")
        if request.POST.get("review") == "clear":
            count = identity.clear_review([obj], request.user)
            message = "Review cleared: flagged again." if count else "This identity was not reviewed."
        else:
            count = identity.mark_reviewed([obj], request.user, request.POST.get("review_note", ""))
            message = "Marked reviewed: stays unmatched." if count else "Only unreviewed, unmatched identities."
        self.message_user(request, message, messages.SUCCESS if count else messages.WARNING)
        return redirect("admin:portal_identity_change", obj.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"may_review": self.has_review_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)


@admin.register(LoginEvent)
class LoginEventAdmin(ExplainerMixin, admin.ModelAdmin):
    list_display = ["at", "user", "provider_name", "outcome"]
    list_filter = [ReviewFilter, "provider"]
    search_fields = ["user__username", "user__email", "entity_ref"]
    list_select_related = ["user"]
    date_hierarchy = "at"

    @admin.display(description="catalog identity")
    def outcome(self, obj: LoginEvent):
        return outcome_badge(obj)


@admin.register(GroupMappingRule)
class GroupMappingRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "match_type", "pattern", "target", "provider", "enabled", "note"]
    list_display_links = ["pattern"]
    list_editable = ["position", "enabled"]
    list_filter = ["match_type", "enabled", "provider"]
    search_fields = ["pattern", "target", "note"]
    fields = ["position", "match_type", "pattern", "target", "provider", "enabled", "note"]
    # Saving or deleting a rule queues a recompute of everyone's groups (catalog/signals.py).
