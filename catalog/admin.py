"""Where platform admins curate the catalog. Entities from git are read-only; overrides are not."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html

from catalog.cache import bump_catalog_version
from catalog.ingestion import refresh
from catalog.models import CatalogRule, Entity, EntityOverride, Location, ProcessingError


class HasErrorsFilter(admin.SimpleListFilter):
    title = "processing errors"
    parameter_name = "has_errors"

    def lookups(self, request, model_admin):
        return [("yes", "With errors"), ("no", "Without errors")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.with_errors()
        if self.value() == "no":
            return queryset.filter(error_count=0)
        return queryset


class OrphanFilter(admin.SimpleListFilter):
    title = "orphaned"
    parameter_name = "orphaned"

    def lookups(self, request, model_admin):
        return [("yes", "Orphaned"), ("no", "Not orphaned")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.orphans()
        if self.value() == "no":
            return queryset.filter(orphaned_at__isnull=True)
        return queryset


@admin.register(Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["ref", "kind", "spec_type", "owner_ref", "lifecycle", "error_badge", "orphaned_at", "updated_at"]
    list_filter = ["kind", "spec_type", "lifecycle", "namespace", HasErrorsFilter, OrphanFilter]
    search_fields = ["ref", "title", "description", "owner_ref"]
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = [f.name for f in Entity._meta.fields]
    actions = ["delete_orphans"]

    @admin.display(description="errors", ordering="error_count")
    def error_badge(self, entity: Entity):
        return format_html('<b style="color:#b42318">{}</b>', entity.error_count) if entity.error_count else "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # content comes from git; governance goes in Entity overrides

    @admin.action(description="Delete selected orphaned entities")
    def delete_orphans(self, request, queryset):
        deleted, _ = queryset.orphans().delete()
        self.message_user(request, f"Deleted {deleted} orphaned row(s).")


@admin.register(EntityOverride)
class EntityOverrideAdmin(admin.ModelAdmin):
    list_display = ["entity_ref", "verified_owner", "deprecation_note", "updated_by", "updated_at"]
    search_fields = ["entity_ref", "verified_owner"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        bump_catalog_version()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        bump_catalog_version()


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["target", "type", "status", "entity_count", "last_checked_at", "last_changed_at"]
    list_filter = ["status", "type"]
    search_fields = ["target"]
    fields = ["type", "target", "presence", "status", "message", "version", "entity_count",
              "last_checked_at", "last_changed_at", "next_refresh_at", "created_by"]  # fmt: skip
    readonly_fields = ["status", "message", "version", "entity_count", "last_checked_at", "last_changed_at",
                       "next_refresh_at", "created_by"]  # fmt: skip
    actions = ["refresh_now"]

    def save_model(self, request, obj, form, change):
        obj.created_by = obj.created_by or request.user.get_username()
        super().save_model(request, obj, form, change)
        result = refresh.refresh_location(obj.pk, force=True)
        self.message_user(request, f"Refreshed {obj.target}: {result.summary.as_dict()}")

    @admin.action(description="Refresh now")
    def refresh_now(self, request, queryset):
        for location in queryset:
            result = refresh.refresh_location(location.pk, force=True)
            level = messages.ERROR if result.status == Location.Status.ERROR else messages.SUCCESS
            self.message_user(request, f"{location.target}: {result.summary.as_dict()} {result.message}", level)


@admin.register(ProcessingError)
class ProcessingErrorAdmin(admin.ModelAdmin):
    list_display = ["entity_ref", "rule", "level", "where", "message", "created_at"]
    list_filter = ["level", "rule", ("location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["entity_ref", "message", "file"]
    readonly_fields = [f.name for f in ProcessingError._meta.fields]

    def has_add_permission(self, request):
        return False

    def get_search_results(self, request, queryset, search_term):
        if search_term:
            return queryset.filter(Q(entity_ref__icontains=search_term) | Q(message__icontains=search_term)), False
        return queryset, False


@admin.register(CatalogRule)
class CatalogRuleAdmin(admin.ModelAdmin):
    list_display = ["priority", "action", "kind", "spec_type", "location_pattern", "note"]
    list_editable = ["action"]
    list_display_links = ["kind"]

from catalog import admin_identity  # noqa: E402, F401 - registers the SSO identity admin
