"""Where platform admins curate the catalog. Entities from git are read-only; overrides are not.

Staff who are not superusers see and change only what the access rules allow them (the same rules as the UI
and the API, ``catalog.permissions``); Django's model permissions are not consulted for these models.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.html import format_html

from catalog import permissions as access
from catalog.cache import bump_catalog_version
from catalog.ingestion import refresh
from catalog.models import CatalogRule, Entity, EntityOverride, Location, ProcessingError
from portal.access import is_admin
from portal.admin import AccessAdminMixin


class RuleCheckedAdmin(admin.ModelAdmin):
    """Any active staff member may open these pages; what they see and may do comes from the rules."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def get_actions(self, request):
        found = super().get_actions(request)
        if not request.user.is_superuser:
            found.pop("delete_selected", None)  # bulk deletes skip per-object checks
        return found


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
class EntityAdmin(RuleCheckedAdmin):
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

    def view_on_site(self, entity: Entity) -> str | None:
        return entity.get_absolute_url() or None  # no "View on site" for an entity that cannot have a page

    def get_queryset(self, request):
        return access.readable(super().get_queryset(request), request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # content comes from git; governance goes in Entity overrides

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return request.user.is_superuser or self.has_module_permission(request)
        return access.can(request.user, access.UNREGISTER, obj)

    @admin.action(description="Delete selected orphaned entities")
    def delete_orphans(self, request, queryset):
        deleted, _ = access.allowed(queryset.orphans(), request.user, access.UNREGISTER).delete()
        self.message_user(request, f"Deleted {deleted} orphaned row(s) (only those you may unregister).")


class EntityOverrideForm(forms.ModelForm):
    class Meta:
        model = EntityOverride
        fields = ["entity_ref", "verified_owner", "deprecation_note", "extra_tags", "note"]

    def clean_entity_ref(self) -> str:
        ref = self.cleaned_data["entity_ref"].strip().lower()
        entity = access.readable(Entity.objects.all(), self.request.user).filter(ref=ref).first()
        if entity is None:
            raise forms.ValidationError(f"No entity {ref!r}.")
        self.entity = entity
        return ref

    def clean(self):
        data = super().clean()
        entity = getattr(self, "entity", None) or override_entity(self.instance)
        if entity is None:
            return data
        allowed = access.allowed_override_fields(self.request.user, entity)
        changed = [f for f in self.changed_data if f != "entity_ref" and f not in allowed]
        if not allowed:
            raise forms.ValidationError(access.decide(self.request.user, access.OVERRIDE, entity).reason)
        if changed:
            raise forms.ValidationError(f"You may not set: {', '.join(changed)} (only {', '.join(allowed)}).")
        return data


def override_entity(override: EntityOverride | None) -> Entity | None:
    """The entity an override is about, looked up once per override object (the change view asks often)."""
    if override is None or not override.entity_ref:
        return None
    if not hasattr(override, "_entity"):
        override._entity = Entity.objects.filter(ref=override.entity_ref).first()
    return override._entity


@admin.register(EntityOverride)
class EntityOverrideAdmin(RuleCheckedAdmin):
    form = EntityOverrideForm
    list_display = ["entity_ref", "verified_owner", "deprecation_note", "updated_by", "updated_at"]
    search_fields = ["entity_ref", "verified_owner"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_admin(request.user):
            return queryset
        overridable = access.allowed(Entity.objects.all(), request.user, access.OVERRIDE)
        return queryset.filter(entity_ref__in=overridable.values("ref"))

    def get_readonly_fields(self, request, obj=None):
        entity = override_entity(obj)
        if entity is None or is_admin(request.user):
            return []
        allowed = access.allowed_override_fields(request.user, entity)
        return ["entity_ref", *[f for f in access.OVERRIDE_FIELDS if f not in allowed]]

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        if obj is None or is_admin(request.user):
            return self.has_module_permission(request)
        entity = override_entity(obj)
        return entity is not None and bool(access.allowed_override_fields(request.user, entity))

    def has_delete_permission(self, request, obj=None):
        if obj is None or is_admin(request.user):
            return self.has_module_permission(request)
        entity = override_entity(obj)
        allowed = access.allowed_override_fields(request.user, entity) if entity else []
        return bool(allowed) and all(f in allowed for f in access.OVERRIDE_FIELDS if getattr(obj, f))

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        bump_catalog_version()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        bump_catalog_version()


@admin.register(Location)
class LocationAdmin(RuleCheckedAdmin):
    list_display = ["target", "type", "status", "entity_count", "last_checked_at", "last_changed_at"]
    list_filter = ["status", "type"]
    search_fields = ["target"]
    fields = ["type", "target", "presence", "status", "message", "version", "entity_count",
              "last_checked_at", "last_changed_at", "next_refresh_at", "created_by"]  # fmt: skip
    readonly_fields = ["status", "message", "version", "entity_count", "last_checked_at", "last_changed_at",
                       "next_refresh_at", "created_by"]  # fmt: skip
    actions = ["refresh_now"]

    def get_queryset(self, request):
        return access.readable_locations(super().get_queryset(request), request.user)

    def has_add_permission(self, request):
        return access.can(request.user, access.REGISTER)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return access.can(request.user, access.REGISTER) and self.has_delete_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return access.location_decision(request.user, access.UNREGISTER, obj).allowed

    def delete_model(self, request, obj):
        decision = access.location_decision(request.user, access.UNREGISTER, obj)
        if not decision.allowed:
            raise PermissionDenied(decision.reason)
        refresh.unregister_location(obj.pk)

    def save_model(self, request, obj, form, change):
        obj.created_by = obj.created_by or request.user.get_username()
        super().save_model(request, obj, form, change)
        result = refresh.refresh_location(obj.pk, force=True)
        self.message_user(request, f"Refreshed {obj.target}: {result.summary.as_dict()}")

    @admin.action(description="Refresh now")
    def refresh_now(self, request, queryset):
        for location in queryset:
            decision = access.location_decision(request.user, access.REFRESH, location, every=False)
            if not decision.allowed:
                self.message_user(request, f"{location.target}: not refreshed. {decision.reason}", messages.WARNING)
                continue
            result = refresh.refresh_location(location.pk, force=True)
            level = messages.ERROR if result.status == Location.Status.ERROR else messages.SUCCESS
            self.message_user(request, f"{location.target}: {result.summary.as_dict()} {result.message}", level)


@admin.register(ProcessingError)
class ProcessingErrorAdmin(RuleCheckedAdmin):
    list_display = ["entity_ref", "rule", "level", "where", "message", "created_at"]
    list_filter = ["level", "rule", ("location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["entity_ref", "message", "file"]
    readonly_fields = [f.name for f in ProcessingError._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_queryset(self, request):
        return access.readable_errors(super().get_queryset(request), request.user)

    def get_search_results(self, request, queryset, search_term):
        if search_term:
            return queryset.filter(Q(entity_ref__icontains=search_term) | Q(message__icontains=search_term)), False
        return queryset, False


@admin.register(CatalogRule)
class CatalogRuleAdmin(AccessAdminMixin, admin.ModelAdmin):
    """Catalog rules are governance: superusers and platform admins only, like roles and access rules."""

    list_display = ["priority", "action", "kind", "spec_type", "location_pattern", "note"]
    list_editable = ["action"]
    list_display_links = ["kind"]

from catalog import admin_identity  # noqa: E402, F401 - registers the SSO identity admin
