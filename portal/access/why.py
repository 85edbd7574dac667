""""Can X do Y on Z, and why?": shared by the admin page and the API endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from portal.access import actions, decide, hooks, is_admin
from portal.access.engine import Decision, Target


class WhyError(Exception):
    """A question that cannot be answered: ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Answer:
    username: str
    action: str
    entity_ref: str
    target: Target | None
    decision: Decision

    def as_dict(self) -> dict:
        return {"user": self.username, "entity": self.entity_ref or None, **self.decision.as_dict()}


def explain(asker, *, username: str = "", action: str, entity_ref: str = "") -> Answer:
    """Answer for ``username`` (the asker when empty). Only admins may ask about other people."""
    action = (action or "").strip()
    if action not in actions.KNOWN:
        raise WhyError(f"Unknown action {action!r}; use one of {', '.join(sorted(actions.KNOWN))}")
    username = (username or "").strip()
    if username and username != asker.get_username():
        if not is_admin(asker):
            raise WhyError("Only admins may ask about other people; leave 'user' empty to ask about yourself.", 403)
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise WhyError(f"No user named {username!r}", 404)
    else:
        user = asker
    target = None
    entity_ref = (entity_ref or "").strip()
    if entity_ref:
        try:
            target = hooks.resolve_target(entity_ref)
        except ValueError as exc:
            raise WhyError(f"Malformed entity ref {entity_ref!r}: {exc}") from exc
        asker_reads = target is not None and decide(asker, actions.ENTITY_READ, target).allowed
        if target is None or not asker_reads:
            raise WhyError(f"No entity {entity_ref!r}", 404)
    decision = decide(user, action, target)
    return Answer(user.get_username(), action, target.ref if target else "", target, decision)
