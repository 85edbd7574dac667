"""Initiatives in the Django admin: written here (validated against their scorecard) or mirrored from the
catalog's ``kind: Initiative`` entities (read-only here, like catalog scorecards)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from portal import clock
from scorecards.models import Initiative

READ_ONLY = ["slug", "title", "description", "scorecard", "target_level", "rule_ids", "applies_to", "owner",
             "starts_at", "deadline", "source", "entity_ref"]  # fmt: skip


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = ["title", "scorecard", "target", "owner", "deadline", "source", "page"]
    list_filter = ["scorecard", "source"]
    search_fields = ["title", "slug", "owner"]
    prepopulated_fields = {"slug": ["title"]}

    def get_changeform_initial_data(self, request):
        return {"starts_at": clock.now(), **super().get_changeform_initial_data(request)}

    @admin.display(description="target")
    def target(self, obj: Initiative) -> str:
        return obj.target_level or ", ".join(obj.rule_ids)

    @admin.display(description="progress")
    def page(self, obj: Initiative) -> str:
        return format_html('<a href="/scorecards/initiatives/{}/">view</a>', obj.slug)

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None and obj.source == Initiative.Source.CATALOG else self.prepopulated_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.source == Initiative.Source.CATALOG:
            return READ_ONLY
        return ["source", "entity_ref"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.source == Initiative.Source.CATALOG:
            return False  # it comes back with the next sync: remove it from its location instead
        return super().has_delete_permission(request, obj)
