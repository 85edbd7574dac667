"""Permissions as data: a generic policy engine (no catalog imports).

Public surface: ``actions`` (names), ``Subject``, ``Target``, ``Decision``, ``Filter``, ``current_policy()``,
``subject_for(user)`` (memoised on the user object, i.e. per request), and ``hooks`` for the catalog.
"""

from __future__ import annotations

import contextlib

from portal.access import actions, hooks
from portal.access.engine import Decision, Filter, Policy, Rule, Subject, Target
from portal.access.rules import access_version, current_policy

__all__ = ["Decision", "Filter", "Policy", "Rule", "Subject", "Target", "access_version", "actions",
           "current_policy", "decide", "hooks", "is_admin", "subject_for"]  # fmt: skip


def subject_for(user) -> Subject:
    """The Subject for a user, kept on the user object so identity refs are computed once per request."""
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    subject = getattr(user, "_callboard_subject", None)
    if subject is None:
        subject = Subject(user)
        with contextlib.suppress(AttributeError):  # a user object that refuses attributes: no memo
            user._callboard_subject = subject
    return subject


def decide(user, action: str, target: Target | None = None) -> Decision:
    return current_policy().decide(subject_for(user), action, target)


def is_admin(user) -> bool:
    """Superuser or platform admin (through any rule, group rules included)."""
    return decide(user, actions.ADMIN).allowed
