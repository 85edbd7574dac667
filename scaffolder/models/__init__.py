"""Scaffolder models: a task (one run of a template), its steps, its event log, and what it created."""

from scaffolder.models.census import CreatedEntity
from scaffolder.models.tasks import Task, TaskEvent, TaskStep

__all__ = ["CreatedEntity", "Task", "TaskEvent", "TaskStep"]
