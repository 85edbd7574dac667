"""The audit log: who changed what, when and from where. Rows are written by portal.audit only."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEvent(models.Model):
    """One security-relevant change: an admin edit, a token issued or revoked, a permission granted, ..."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the record survives the actor's deletion; "system" or "cli:<os user>" outside requests.
    actor_repr = models.CharField("actor", max_length=150, db_index=True)
    action = models.CharField(max_length=100, db_index=True, help_text="e.g. token.created, auth.user.changed")
    target_type = models.CharField(max_length=100, blank=True, db_index=True, help_text="app_label.model")
    target_id = models.CharField(max_length=100, blank=True)
    target_repr = models.CharField("target", max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_repr} {self.action} {self.target_repr}"
