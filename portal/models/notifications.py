"""Notifications: the in-app inbox, per-person mutes, the admin's delivery targets and each external send."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class Notification(models.Model):
    """One message in one person's inbox."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    category = models.CharField(max_length=100, help_text="A registered category, e.g. scorecards.level-dropped")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=1000, blank=True, help_text="Where it leads (a path inside Callboard)")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class NotificationMute(models.Model):
    """A person does not want notifications of one category (neither in the inbox nor by email)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_mutes")
    category = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="unique_notification_mute")]

    def __str__(self) -> str:
        return f"{self.user_id} mutes {self.category}"


class NotificationTarget(models.Model):
    """A chat channel, webhook or mailing list that receives every notification of its categories, sent
    through apprise. ``url`` is an apprise URL and a secret (it often holds a token): never shown again."""

    name = models.CharField(max_length=100, unique=True)
    url = models.TextField(help_text="An apprise URL, e.g. json://hooks.example.com/callboard or "
                                     "mailtos://user:pass@smtp.example.com?to=team@example.com")  # fmt: skip
    categories = models.JSONField(default=list, blank=True, help_text="Categories sent here; empty: every one")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from portal.notifications.delivery import UnsafeUrl, check_url

        try:
            check_url(self.url)
        except UnsafeUrl as exc:
            raise ValidationError({"url": str(exc)}) from exc
        if not isinstance(self.categories, list) or not all(isinstance(c, str) for c in self.categories):
            raise ValidationError({"categories": "A list of category names, e.g. [\"scorecards.level-dropped\"]"})

    def wants(self, category: str) -> bool:
        return self.enabled and (not self.categories or category in self.categories)


class NotificationDelivery(models.Model):
    """One external send (to a target, or to one person's email), retried by its Celery task until it is
    sent or its attempts run out; the row says what happened."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    target = models.ForeignKey(NotificationTarget, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="deliveries")  # fmt: skip
    email = models.EmailField(blank=True, help_text="Sent to this person through NOTIFICATIONS_EMAIL_URL")
    category = models.CharField(max_length=100)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "notification deliveries"

    def __str__(self) -> str:
        return f"{self.title} → {self.target or self.email}"
