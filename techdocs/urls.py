"""TechDocs pages: the docs home and deep links into an entity's docs."""

from django.urls import path

from techdocs import views

app_name = "techdocs"

urlpatterns = [
    path("docs/", views.docs_home, name="home"),
    path("catalog/<str:namespace>/<str:kind>/<str:name>/docs/<path:page>", views.docs_page, name="page"),
]
