"""Admin for tokens, service accounts, job runs and the (read-only) audit log."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model

from portal.models import ApiToken, AuditEvent, JobRun, ServiceAccount


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
