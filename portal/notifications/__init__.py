"""Notifications any app can send: an in-app inbox, per-person mutes, email and chat/webhook delivery through
apprise (docs/notifications.md). The public surface::

    from portal.notifications import notify, register_category

    register_category("scorecards.level-dropped", "A level dropped")   # in AppConfig.ready()
    notify(users, category="scorecards.level-dropped", title="checkout dropped to Bronze", url="/catalog/…")
"""

from portal.notifications.service import (
    Category,
    categories,
    mark_all_read,
    mark_read,
    notify,
    register_category,
    unread_count,
)

__all__ = ["Category", "categories", "mark_all_read", "mark_read", "notify", "register_category", "unread_count"]
