"""One POST of the template form: read the step, move Back/Next, redraw on change, or create the task.

Steps are the parameter pages that apply, then a review step. Each POST carries the non-secret values in
the ``state`` field and the secret inputs as the browser kept them; nothing is kept on the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from catalog.models import Entity
from scaffolder import forms, service, sources
from scaffolder.models import Task
from scaffolder.preview import Preview, dry_run_preview


@dataclass
class WizardStep:
    pages: list[forms.Page]
    step: int  # index into pages; len(pages) is the review step
    values: dict[str, Any]
    seen: set[str]
    errors: list[str] = field(default_factory=list)  # from create_task, shown on the review step
    task: Task | None = None
    preview: Preview | None = None  # the review step's dry run, when asked for

    @property
    def reviewing(self) -> bool:
        return self.step >= len(self.pages)

    @property
    def page(self) -> forms.Page | None:
        return None if self.reviewing else self.pages[self.step]

    @property
    def state(self) -> str:
        return forms.dump_state(self.values, self.seen, self.pages)

    def review(self) -> list[dict[str, Any]]:
        return forms.review_rows(self.pages, self.values)


def start(entity: Entity, user) -> WizardStep:
    values: dict[str, Any] = {}
    seen: set[str] = set()
    pages = forms.build_pages(_spec(entity), user, values, seen)
    return WizardStep(pages, 0, values, seen)


def _spec(entity: Entity) -> dict[str, Any]:
    return sources.ordered_spec(entity)


def _step(text: str, last: int) -> int:
    """A step number from the form, within ``0..last``; anything else is the first step."""
    try:
        return max(0, min(int(text), last))
    except ValueError:
        return 0


def advance(entity: Entity, user, post: QueryDict) -> WizardStep:
    """``action``: ``next``, ``back``, ``goto-<step>``, ``refresh`` (a field changed), ``preview`` (a dry run
    from the review step) or ``create``."""
    values, seen = forms.load_state(post.get("state", ""))
    builder = forms.FormBuilder(_spec(entity), user, values, seen)  # reads each picker's choices once
    pages = builder.pages()
    step = _step(post.get("step", ""), len(pages))
    problems: dict[str, str] = {}
    if step < len(pages):
        problems = forms.read_page(pages[step], post, values)
    pages = builder.pages()  # the values read may have changed which fields and pages apply
    step = min(step, len(pages))
    secrets = forms.read_secrets(pages, post)
    action = post.get("action", "next")
    current = WizardStep(pages, step, values, seen)
    if action == "refresh":
        return current
    if action == "back":
        current.step = max(0, step - 1)
        return current
    if action.startswith("goto-"):  # the stepper: back to an earlier step
        current.step = min(_step(action[5:], len(pages)), step)
        return current
    if step < len(pages):
        if forms.check_page(pages[step], values, secrets, problems):
            current.step = step + 1
        return current
    if action == "preview":
        return _preview(entity, user, current, secrets)
    return _create(entity, user, current, secrets)


def _all_values(current: WizardStep, secrets: dict[str, Any]) -> dict[str, Any] | None:
    """Every page checked again (None, and the first page with errors shown); else the values to send."""
    for number, page in enumerate(current.pages):
        if not forms.check_page(page, current.values, secrets, {}):
            current.step = number
            return None
    return forms.only_shown(forms.merged(current.values, secrets), current.pages)


def _preview(entity: Entity, user, current: WizardStep, secrets: dict[str, Any]) -> WizardStep:
    """The template run dry with these values (``service.dry_run``): nothing is stored."""
    values = _all_values(current, secrets)
    if values is not None:
        current.preview = dry_run_preview(user, entity, values, secrets)
    return current


def _create(entity: Entity, user, current: WizardStep, secrets: dict[str, Any]) -> WizardStep:
    """Every page checked again (the first with errors is shown); then ``service.create_task``."""
    values = _all_values(current, secrets)
    if values is None:
        return current
    try:
        current.task = service.create_task(user, entity.ref, values, {})
    except service.InvalidRequest as exc:
        current.errors = exc.errors
    return current
