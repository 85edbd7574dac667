"""Backstage's scaffolder routes, mounted at /api/scaffolder/v2/."""

from django.urls import path

from scaffolder.api import views

app_name = "scaffolder-api"

urlpatterns = [
    path("tasks", views.TaskListView.as_view(), name="tasks"),
    path("tasks/<str:task_id>", views.TaskDetailView.as_view(), name="task"),
    path("tasks/<str:task_id>/events", views.TaskEventsView.as_view(), name="task-events"),
    path("tasks/<str:task_id>/eventstream", views.TaskEventStreamView.as_view(), name="task-eventstream"),
    path("tasks/<str:task_id>/cancel", views.TaskCancelView.as_view(), name="task-cancel"),
    path("tasks/<str:task_id>/retry", views.TaskRetryView.as_view(), name="task-retry"),
    path("dry-run", views.DryRunView.as_view(), name="dry-run"),
    path("integrations/list", views.IntegrationsView.as_view(), name="integrations"),
    path("actions", views.ActionListView.as_view(), name="actions"),
    path(
        "templates/<str:namespace>/<str:kind>/<str:name>/parameter-schema",
        views.ParameterSchemaView.as_view(),
        name="parameter-schema",
    ),
    path("templates/<str:namespace>/<str:kind>/<str:name>/census", views.TemplateCensusView.as_view(), name="census"),
]
