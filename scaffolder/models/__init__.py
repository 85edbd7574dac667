"""Scaffolder models: a task (one run of a template), its steps and its event log."""

from scaffolder.models.tasks import Task, TaskEvent, TaskStep

__all__ = ["Task", "TaskEvent", "TaskStep"]
