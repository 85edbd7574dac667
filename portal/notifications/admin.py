"""Notification targets and deliveries in the Django admin. A target's URL is a secret: it is entered in a
password field, never shown again (the list shows only its scheme), recorded in the audit log as changed
without its value, and checked against NOTIFICATIONS_ALLOWED_SCHEMES and private hosts on save."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from portal.admin import AccessAdminMixin
from portal.models.notifications import Notification, NotificationDelivery, NotificationTarget
from portal.notifications import service


class TargetForm(forms.ModelForm):
    url = forms.CharField(
        label="URL", required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"size": 80, "autocomplete": "off"}),
        help_text="An apprise URL (json://, mailtos://, slack://, …). Secret: never shown again; leave blank to "
                  "keep the current one.",
    )  # fmt: skip
    categories = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: every category."
    )

    class Meta:
        model = NotificationTarget
        fields = ["name", "url", "categories", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = [(c.name, f"{c.label} ({c.name})") for c in service.categories()]
        known += [(name, name) for name in self.instance.categories or [] if name not in dict(known)]
        self.fields["categories"].choices = known

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url", "")
        if not url:
            if not self.instance.pk:
                raise forms.ValidationError("A new target needs a URL.")
            return self.instance.url  # blank on change: keep the stored secret
        return url


@admin.register(NotificationTarget)
class NotificationTargetAdmin(AccessAdminMixin, admin.ModelAdmin):
    # Targets hold secrets and decide where data goes: superusers and platform admins only, like roles.
    form = TargetForm
    list_display = ["name", "masked_url", "category_list", "enabled"]
    list_filter = ["enabled"]

    @admin.display(description="URL")
    def masked_url(self, obj: NotificationTarget) -> str:
        return f"{obj.url.split('://', 1)[0]}://••••••" if "://" in obj.url else "••••••"

    @admin.display(description="categories")
    def category_list(self, obj: NotificationTarget) -> str:
        return ", ".join(obj.categories) or "every category"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "title", "target", "email", "status", "attempts", "last_error"]
    list_filter = ["status", "category", "target"]
    search_fields = ["title", "email"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "category", "title", "read_at"]
    list_filter = ["category"]
    search_fields = ["title", "user__username"]
    list_select_related = ["user"]
