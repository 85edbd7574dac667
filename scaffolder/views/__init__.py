"""The scaffolder's web pages (server-rendered, htmx): templates (gallery, template page, form) and tasks (the
task list and a task's page with its live log)."""
