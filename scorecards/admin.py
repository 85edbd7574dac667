"""Scorecard definitions in the admin: catalog ones are shown read-only; admin-authored ones are edited here,
validated exactly as the catalog validates ``kind: Scorecard`` (schema, levels, rule ids, CEL that compiles)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path

from scorecards import exemptions
from scorecards.models import Exemption, Scorecard, Transition

SPEC_EXAMPLE = {
    "owner": "group:default/platform",
    "appliesTo": 'entity.kind == "Component"',
    "levels": ["Bronze", "Silver", "Gold"],
    "rules": [{"id": "lifecycle-set", "level": "Bronze", "expression": "has(entity.spec.lifecycle)",
               "description": "The service declares its lifecycle",
               "remediation": "Add spec.lifecycle to catalog-info.yaml"}],
}  # fmt: skip


class ScorecardForm(forms.ModelForm):
    spec = forms.JSONField(
        initial=SPEC_EXAMPLE,
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}),
        help_text="The YAML's spec as JSON: owner, appliesTo, levels (lowest first), rules. Errors name the field.",
    )

    class Meta:
        model = Scorecard
        fields = ["namespace", "name", "title", "description", "spec"]


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    form = ScorecardForm
    list_display = ["ref", "title", "source", "rule_count", "updated_at"]
    list_filter = ["source"]
    search_fields = ["ref", "title"]

    @admin.display(description="rules")
    def rule_count(self, obj: Scorecard) -> int:
        return len(obj.rules)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.source == Scorecard.Source.CATALOG:
            return ["ref", "namespace", "name", "title", "description", "spec", "source"]
        return ["ref", "source"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.source == Scorecard.Source.CATALOG:
            return False  # it comes back with the next sync: remove it from its location instead
        return super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and obj.source == Scorecard.Source.CATALOG:
            extra_context = {**(extra_context or {}), "whatif_spec": json.dumps(obj.spec, indent=2)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("preview/", preview, name="scorecards_scorecard_preview_add"),
            path("<int:pk>/preview/", preview, name="scorecards_scorecard_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk: int | None = None):
        """htmx from the change form's Preview button: the entities whose level the edited (unsaved) definition
        would change. Validates exactly as saving does; writes nothing. For a catalog scorecard (read-only here)
        it answers "what if" for an edited copy of its spec."""
        from scorecards.preview import blast_radius

        obj = get_object_or_404(Scorecard, pk=pk) if pk else None
        allowed = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        if request.method != "POST" or not allowed:
            refused = {"refused": "Preview a scorecard's edits from its change form."}
            return TemplateResponse(request, "admin/scorecards/scorecard/_preview.html", refused, status=400)
        data = request.POST
        if obj is not None and obj.source == Scorecard.Source.CATALOG:  # its fields are read-only: the copy's spec
            data = {"namespace": obj.namespace, "name": obj.name, "title": obj.title, "description": obj.description,
                    "spec": request.POST.get("whatif_spec", "")}  # fmt: skip
        form = ScorecardForm(data, instance=obj)
        if not form.is_valid():
            return TemplateResponse(request, "admin/scorecards/scorecard/_preview.html", {"form_errors": form.errors})
        result = blast_radius(form.instance)
        return TemplateResponse(request, "admin/scorecards/scorecard/_preview.html",
                                {"result": result, "changes": result.changes[:200]})  # fmt: skip


@admin.register(Transition)
class TransitionAdmin(admin.ModelAdmin):
    list_display = ["at", "entity_ref", "scorecard", "rule_id", "before", "after", "data_at"]
    list_filter = ["scorecard"]
    search_fields = ["entity_ref", "rule_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Exemption)
class ExemptionAdmin(admin.ModelAdmin):
    """Exemptions count once approved and until they expire. The approve and deny actions go through
    scorecards.exemptions (the same checks, audit events and notifications as the page and the API)."""

    list_display = ["entity_ref", "scorecard", "rule_id", "state", "requested_by", "approved_by", "denied_by",
                    "expires_at"]  # fmt: skip
    list_filter = ["scorecard", ("approved_at", admin.EmptyFieldListFilter), ("denied_at", admin.EmptyFieldListFilter)]
    search_fields = ["entity_ref", "rule_id", "reason"]
    readonly_fields = ["requested_by", "requested_at", "approved_by", "approved_at", "denied_by", "denied_at"]
    actions = ["approve", "deny"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.requested_by = request.user.get_username()
        super().save_model(request, obj, form, change)

    @admin.action(description="Approve the selected exemptions")
    def approve(self, request, queryset):
        self._decide(request, queryset, exemptions.approve, "Approved")

    @admin.action(description="Deny the selected exemptions")
    def deny(self, request, queryset):
        self._decide(request, queryset, exemptions.deny, "Denied")

    def _decide(self, request, queryset, decide, verb: str) -> None:
        done, refused = 0, []
        for row in queryset.select_related("scorecard").filter(approved_at=None, denied_at=None):
            try:
                decide(request.user, row)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                refused.append(f"{row}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}")
        self.message_user(request, f"{verb} {done} exemption request(s).", messages.SUCCESS)
        for text in refused:
            self.message_user(request, text, messages.ERROR)


from scorecards import initiative_admin  # noqa: E402, F401 - registers the Initiative admin (its own module)
