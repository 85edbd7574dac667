"""Scaffolder pages (server-rendered, htmx): the task list and a task's page with its live log."""
