"""Admin for SSO identities, group mapping rules and the login explainer.

The models live in portal (portal never imports catalog); their admin lives here because recomputing an
identity needs the catalog.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from catalog import identity
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
            return queryset.filter(needs_review=False)
        return queryset


def outcome_badge(obj) -> str:
    if obj.entity_ref:
        html = '<span style="color:#1d7a46">✔ {} <small>by {}</small></span>'
        return format_html(html, obj.entity_ref, obj.matched_by)
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


@admin.register(Identity)
class IdentityAdmin(ExplainerMixin, admin.ModelAdmin):
    list_display = ["user", "outcome", "provider", "resolved_at"]
    list_filter = [ReviewFilter, "matched_by", "provider"]
    search_fields = ["user__username", "user__email", "entity_ref"]
    list_select_related = ["user"]
    actions = ["recompute"]

    @admin.display(description="catalog identity")
    def outcome(self, obj: Identity):
        return outcome_badge(obj)

    @admin.action(description="Recompute from the current catalog and rules")
    def recompute(self, request, queryset):
        count = identity.refresh_identities(queryset.values_list("user_id", flat=True))
        self.message_user(request, f"Recomputed {count} identit{'y' if count == 1 else 'ies'}.")


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
