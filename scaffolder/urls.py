"""The scaffolder's pages, mounted under /create/."""

from django.urls import path

from scaffolder.views import tasks, templates

app_name = "scaffolder"

TEMPLATE = "templates/<str:namespace>/<str:name>/"

urlpatterns = [
    path("", templates.gallery, name="gallery"),
    path(TEMPLATE, templates.template_detail, name="template"),
    path(TEMPLATE + "run/", templates.run, name="run"),
    path("tasks/", tasks.task_list, name="tasks"),
    path("tasks/<uuid:task_id>/", tasks.task_detail, name="task"),
    path("tasks/<uuid:task_id>/events/", tasks.task_events, name="task_events"),
    path("tasks/<uuid:task_id>/cancel/", tasks.task_cancel, name="task_cancel"),
    path("tasks/<uuid:task_id>/retry/", tasks.task_retry, name="task_retry"),
]
