"""The scaffolder's pages, mounted under /create/."""

from django.urls import path

from scaffolder.views import templates

app_name = "scaffolder"

TEMPLATE = "templates/<str:namespace>/<str:name>/"

urlpatterns = [
    path("", templates.gallery, name="gallery"),
    path(TEMPLATE, templates.template_detail, name="template"),
    path(TEMPLATE + "run/", templates.run, name="run"),
]
