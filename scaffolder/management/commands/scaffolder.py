"""``manage.py scaffolder run TEMPLATE_REF --values FILE.json --user NAME``: run a template inline;
``manage.py scaffolder retry TASK_ID --user NAME``: retry a failed task inline, from its failed step."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
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

        retry = sub.add_parser("retry", help="Retry a failed or cancelled task from its first unfinished step")
        retry.add_argument("task_id")
        retry.add_argument("--secrets", help="JSON file holding the task's secrets (they are not kept)")
        retry.add_argument("--user", required=True, help="Username retrying it; their permissions apply")

    def handle(self, *args, **options) -> None:
        if options["command"] == "retry":
            self.retry(options)
            return
        values = _load(options["values"], "--values")
        secrets = _load(options["secrets"], "--secrets") if options.get("secrets") else {}
        user = _user(options["user"])
        try:
            task = service.create_task(user, options["template_ref"], values, secrets, dispatch=False)
        except service.TemplateNotFound as exc:
            raise CommandError(str(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(f"Permission denied: {exc}") from None
        except service.InvalidRequest as exc:
            raise CommandError("Invalid values:\n  " + "\n  ".join(exc.errors)) from None
        self.stdout.write(f"Task {task.pk} ({task.template_ref})")
        self.run_inline(task)

    def retry(self, options) -> None:
        secrets = _load(options["secrets"], "--secrets") if options.get("secrets") else {}
        user = _user(options["user"])
        try:
            task = Task.objects.get(pk=options["task_id"])
            task = service.retry_task(task, user, secrets, dispatch=False)
        except (Task.DoesNotExist, ValidationError, service.TemplateNotFound):
            raise CommandError(f"No task {options['task_id']} that {user.get_username()} may see") from None
        except PermissionDenied as exc:
            raise CommandError(f"Permission denied: {exc}") from None
        except service.NotRetryable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Retrying task {task.pk} ({task.template_ref})")
        self.run_inline(task)

    def run_inline(self, task: Task) -> None:
        with job_run("scaffolder.run_task", str(task.pk)) as job:
            task = engine.run_task(task.pk, job=job, echo=self.stdout.write)
            job.result = {"task": str(task.pk), "status": task.status}
        if task.status != Task.Status.COMPLETED:
            raise CommandError(f"Task {task.status}: {task.error.get('message', '')}")
        if task.output:
            self.stdout.write("Output: " + json.dumps(task.output, indent=2))


def _user(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No user named {username!r}") from None


def _load(path: str, option: str):
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
        return json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise CommandError(f"{option} {path}: {exc}") from None
