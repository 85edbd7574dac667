"""Tasks in the admin: read-only, with their steps (the event log is read through the API)."""

from django.contrib import admin

from scaffolder.models import Task, TaskStep


class TaskStepInline(admin.TabularInline):
    model = TaskStep
    fields = ("position", "step_id", "name", "action", "status", "started_at", "finished_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("id", "template_ref", "status", "created_by_ref", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("template_ref", "created_by_ref")
    exclude = ("sealed_secrets",)
    readonly_fields = ("template_ref", "template_etag", "template_version", "spec", "values", "created_by",
                       "created_by_ref", "status", "started_at", "finished_at", "last_heartbeat_at", "output",
                       "error", "job")  # fmt: skip
    inlines = [TaskStepInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
