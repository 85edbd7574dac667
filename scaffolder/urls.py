"""Scaffolder pages, mounted at /create/."""

from django.urls import path

from scaffolder.views import tasks

app_name = "scaffolder"

urlpatterns = [
    path("tasks/", tasks.task_list, name="tasks"),
    path("tasks/<uuid:task_id>/", tasks.task_detail, name="task"),
    path("tasks/<uuid:task_id>/events/", tasks.task_events, name="task_events"),
    path("tasks/<uuid:task_id>/cancel/", tasks.task_cancel, name="task_cancel"),
    path("tasks/<uuid:task_id>/retry/", tasks.task_retry, name="task_retry"),
]
