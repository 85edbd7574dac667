"""``manage.py scaffolder run TEMPLATE_REF --values FILE.json --user NAME``: run a template inline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from portal.jobs import job_run
from scaffolder import engine, service
from scaffolder.models import Task


class Command(BaseCommand):
    help = "Run a software template inline, printing its step log; exits non-zero when it fails."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="command", required=True)
        run = sub.add_parser("run", help="Run TEMPLATE_REF with the values in a JSON file")
        run.add_argument("template_ref", help="template:namespace/name (the kind defaults to template)")
        run.add_argument("--values", required=True, help="JSON file holding the parameter values ('-' for stdin)")
        run.add_argument("--secrets", help="JSON file holding the task's secrets")
        run.add_argument("--user", required=True, help="Username the task runs as; their permissions apply")

    def handle(self, *args, **options) -> None:
        values = _load(options["values"], "--values")
        secrets = _load(options["secrets"], "--secrets") if options.get("secrets") else {}
        try:
            user = get_user_model().objects.get(username=options["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {options['user']!r}") from None
        try:
            task = service.create_task(user, options["template_ref"], values, secrets, dispatch=False)
        except service.TemplateNotFound as exc:
            raise CommandError(str(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(f"Permission denied: {exc}") from None
        except service.InvalidRequest as exc:
            raise CommandError("Invalid values:\n  " + "\n  ".join(exc.errors)) from None
        self.stdout.write(f"Task {task.pk} ({task.template_ref})")
        with job_run("scaffolder.run_task", str(task.pk)) as job:
            task = engine.run_task(task.pk, job=job, echo=self.stdout.write)
            job.result = {"task": str(task.pk), "status": task.status}
        if task.status != Task.Status.COMPLETED:
            raise CommandError(f"Task {task.status}: {task.error.get('message', '')}")
        if task.output:
            self.stdout.write("Output: " + json.dumps(task.output, indent=2))


def _load(path: str, option: str):
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
        return json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise CommandError(f"{option} {path}: {exc}") from None
