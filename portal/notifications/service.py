"""Notifications: categories apps register, ``notify()``, the inbox's reads and writes, mutes.

``notify()`` writes the inbox rows in the caller's transaction and queues the external deliveries (the
admin's targets, and each person's email when ``NOTIFICATIONS_EMAIL_URL`` is set) once it commits: nothing
is sent inside a request, and a rolled-back change notifies no one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.models.notifications import Notification, NotificationDelivery, NotificationMute, NotificationTarget


@dataclass(frozen=True)
class Category:
    name: str
    label: str


_CATEGORIES: dict[str, Category] = {}


def register_category(name: str, label: str) -> Category:
    """Declare a category (``app.what-happened``) so people can mute it; idempotent for the same label."""
    existing = _CATEGORIES.get(name)
    if existing is not None and existing.label != label:
        raise ValueError(f"Notification category {name!r} is already registered as {existing.label!r}")
    _CATEGORIES[name] = Category(name, label)
    return _CATEGORIES[name]


def categories() -> list[Category]:
    return sorted(_CATEGORIES.values(), key=lambda c: c.name)


def notify(recipients: Iterable, *, category: str, title: str, body: str = "", url: str = "") -> int:
    """Put one notification in each recipient's inbox (unless they muted ``category``) and queue its external
    deliveries after commit. Returns how many inbox notifications were created."""
    if category not in _CATEGORIES:
        raise ValueError(f"Unknown notification category {category!r}: register it with register_category()")
    people = {user.pk: user for user in recipients if user is not None and user.pk and user.is_active}
    muted = set(NotificationMute.objects.filter(category=category, user_id__in=list(people))
                .values_list("user_id", flat=True))  # fmt: skip
    wanted = [user for pk, user in sorted(people.items()) if pk not in muted]
    title, url = title[:300], url[:1000]
    Notification.objects.bulk_create(
        [Notification(user=user, category=category, title=title, body=body, url=url) for user in wanted]
    )
    _queue_deliveries(wanted, category, title, _external_body(body, url))
    return len(wanted)


def _external_body(body: str, url: str) -> str:
    link = f"{settings.BASE_URL}{url}" if url.startswith("/") else url
    return "\n\n".join(part for part in (body, link) if part)


def _queue_deliveries(people: list, category: str, title: str, body: str) -> None:
    rows = [NotificationDelivery(target=target, category=category, title=title, body=body)
            for target in NotificationTarget.objects.filter(enabled=True) if target.wants(category)]  # fmt: skip
    if settings.NOTIFICATIONS_EMAIL_URL:
        rows += [NotificationDelivery(email=user.email, category=category, title=title, body=body)
                 for user in people if user.email]  # fmt: skip
    if not rows:
        return
    ids = [row.pk for row in NotificationDelivery.objects.bulk_create(rows)]  # PostgreSQL and SQLite return keys
    from portal.tasks import deliver_notification

    transaction.on_commit(lambda: [deliver_notification.delay(pk) for pk in ids])


def deliver(delivery_id: int) -> str:
    """Send one delivery (the Celery task's body): ``sent``, ``skipped`` (already sent), or raises
    DeliveryFailed / UnsafeUrl after recording the attempt."""
    from portal.notifications import delivery as channel

    row = NotificationDelivery.objects.select_related("target").filter(pk=delivery_id).first()
    if row is None or row.status == NotificationDelivery.Status.SENT:
        return "skipped"
    url = row.target.url if row.target_id else channel.email_url(row.email)
    row.attempts += 1
    try:
        channel.send(url, title=row.title, body=row.body)
    except (channel.DeliveryFailed, channel.UnsafeUrl) as exc:
        row.last_error = str(exc)
        row.save(update_fields=["attempts", "last_error"])
        raise
    row.status, row.sent_at, row.last_error = NotificationDelivery.Status.SENT, timezone.now(), ""
    row.save(update_fields=["status", "sent_at", "attempts", "last_error"])
    return "sent"


def give_up(delivery_id: int) -> None:
    NotificationDelivery.objects.filter(pk=delivery_id).update(status=NotificationDelivery.Status.FAILED)


# --- The inbox ------------------------------------------------------------------------------------------


def unread_count(user) -> int:
    if not (user and user.is_authenticated):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox(user, *, unread_only: bool = False, limit: int = 100) -> list[Notification]:
    rows = Notification.objects.filter(user=user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return list(rows[:limit])


def mark_read(user, notification_id: int) -> Notification | None:
    row = Notification.objects.filter(user=user, pk=notification_id).first()
    if row is not None and row.read_at is None:
        row.read_at = timezone.now()
        row.save(update_fields=["read_at"])
    return row


def mark_all_read(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def muted_categories(user) -> set[str]:
    return set(NotificationMute.objects.filter(user=user).values_list("category", flat=True))


def set_mutes(user, muted: Iterable[str]) -> set[str]:
    """Mute exactly ``muted`` (unknown category names are ignored); returns what is muted now."""
    wanted = {name for name in muted if name in _CATEGORIES}
    with transaction.atomic():
        NotificationMute.objects.filter(user=user).exclude(category__in=wanted).delete()
        have = muted_categories(user)
        NotificationMute.objects.bulk_create([NotificationMute(user=user, category=c) for c in sorted(wanted - have)])
    return wanted
