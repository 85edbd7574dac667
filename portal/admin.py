"""Admin for tokens, service accounts, job runs, roles and access rules ("why?") and the audit log."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.urls import path

from portal.access import actions, engine, is_admin
from portal.access.why import WhyError, explain
from portal.models import ApiToken, AuditEvent, JobRun, Role, RoleGrant, ServiceAccount


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["hint", "user", "name", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at", ("user__service_account", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "name", "hint"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    fields = ["user", "name", "hint", "scopes", "expires_at", "revoked_at", "created_at", "last_used_at"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # created on the API tokens page or with `manage.py token create`: the secret is shown once

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = sum(token.revoke() for token in queryset.filter(revoked_at__isnull=True))
        self.message_user(request, f"Revoked {count} token(s).")


class ServiceAccountForm(forms.ModelForm):
    username = forms.CharField(max_length=150, help_text="The account's name, e.g. ci-deployer.")

    class Meta:
        model = ServiceAccount
        fields = ["username", "description"]

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError("A user with this name exists already.")
        return username


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    """Service accounts: users without a password that act only through API tokens."""

    list_display = ["user", "description", "created_by", "created_at"]
    search_fields = ["user__username", "description"]
    list_select_related = ["user"]
    readonly_fields = ["user", "created_by", "created_at"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ServiceAccountForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["username", "description"] if obj is None else ["user", "description", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            user = get_user_model()(username=form.cleaned_data["username"])
            user.set_unusable_password()
            user.save()
            obj.user = user
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: nobody edits or deletes the audit log from the admin."""

    list_display = ["created_at", "actor_repr", "action", "target_type", "target_repr", "ip"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["actor_repr", "action", "target_repr", "target_id", "ip"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "actor", "actor_repr", "action", "target_type", "target_id", "target_repr",
                       "changes", "ip"]  # fmt: skip
    list_per_page = 100
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["name", "object_repr", "status", "created_at", "finished_at"]
    list_filter = ["status", "name"]
    readonly_fields = [f.name for f in JobRun._meta.fields]

    def has_add_permission(self, request):
        return False


class AccessAdminMixin:
    """Roles and rules are edited by superusers and platform admins only (not by Django model permissions)."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


ACTION_CHOICES = [(actions.ALL, "* every action"), *actions.ACTIONS]


class RoleForm(forms.ModelForm):
    actions = forms.MultipleChoiceField(choices=ACTION_CHOICES, widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = Role
        fields = ["slug", "name", "description", "actions"]


@admin.register(Role)
class RoleAdmin(AccessAdminMixin, admin.ModelAdmin):
    form = RoleForm
    list_display = ["name", "slug", "action_list", "builtin"]
    readonly_fields = ["builtin"]

    @admin.display(description="actions")
    def action_list(self, role: Role) -> str:
        return ", ".join(role.actions or []) or "—"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.builtin:
            fixed = ["slug", "builtin"]
            return [*fixed, "actions"] if obj.slug == engine.PLATFORM_ADMIN else fixed
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.builtin:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        for role in queryset.filter(builtin=False):
            role.delete()


class WhyForm(forms.Form):
    user = forms.CharField(max_length=150, required=False, help_text="Username; empty for yourself")
    action = forms.ChoiceField(choices=actions.ACTIONS)
    entity = forms.CharField(max_length=400, required=False, help_text="e.g. component:default/checkout",
                             widget=forms.TextInput(attrs={"size": 40}))  # fmt: skip


@admin.register(RoleGrant)
class RoleGrantAdmin(AccessAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/portal/rolegrant/change_list.html"
    list_display = ["name", "role", "effect", "who", "scope", "enabled"]
    list_filter = ["effect", "role", "subject", "enabled"]
    search_fields = ["name", "group_ref", "user__username", "kinds", "owners", "note"]
    raw_id_fields = ["user"]
    fieldsets = [
        (None, {"fields": ["name", "role", "effect", "enabled"]}),
        ("Who", {"fields": ["subject", "user", "group_ref"]}),
        ("On what (empty = anything)", {"fields": ["kinds", "types", "namespaces", "owners", "only_owned"]}),
        (None, {"fields": ["note"]}),
    ]

    @admin.display(description="who")
    def who(self, rule: RoleGrant) -> str:
        return rule.as_rule().who

    @admin.display(description="on")
    def scope(self, rule: RoleGrant) -> str:
        return rule.as_rule().scope

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("role", "user")

    def get_urls(self):
        why = path("why/", self.admin_site.admin_view(self.why_view), name="portal_rolegrant_why")
        return [why, *super().get_urls()]

    def why_view(self, request):
        """Can X do Y on Z, and why? The decision, the deciding rule and every rule considered."""
        if not self.has_view_permission(request):
            return TemplateResponse(request, "admin/portal/why.html", {**self.admin_site.each_context(request),
                                    "title": "Access check", "error": "Only admins may check access."},
                                    status=403)  # fmt: skip
        form = WhyForm(request.GET or None)
        answer = error = None
        if form.is_valid():
            try:
                data = form.cleaned_data
                answer = explain(request.user, username=data["user"], action=data["action"], entity_ref=data["entity"])
            except WhyError as exc:
                error = str(exc)
        context = {**self.admin_site.each_context(request), "title": "Can X do Y on Z, and why?", "form": form,
                   "answer": answer, "error": error, "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/portal/why.html", context)

from portal.notifications import admin as notifications_admin  # noqa: E402,F401  (registers its models)
