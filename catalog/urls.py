"""Catalog pages."""

from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("catalog/", views.entity_list, name="entity_list"),
    path("catalog/register/", views.register_location, name="register"),
    path("catalog/<str:namespace>/<str:kind>/<str:name>/", views.entity_detail, name="entity"),
    path("catalog/<str:namespace>/<str:kind>/<str:name>/star/", views.toggle_star, name="entity_star"),
    path("catalog/<str:namespace>/<str:kind>/<str:name>/<slug:tab>/", views.entity_tab, name="entity_tab"),
]
