"""The scaffolder's web pages: templates (gallery, template page, form) and tasks."""
