"""Catalog pages."""

from django.urls import path

from catalog import views

app_name = "catalog"

ENTITY = "catalog/<str:namespace>/<str:kind>/<str:name>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("catalog/", views.entity_list, name="entity_list"),
    path("catalog/register/", views.register_location, name="register"),
    path("catalog/<str:namespace>/<str:kind>/<str:name>/", views.entity_detail, name="entity"),
    path("catalog/<str:namespace>/<str:kind>/<str:name>/star/", views.toggle_star, name="entity_star"),
    path(ENTITY + "refresh/", views.refresh_entity, name="entity_refresh"),
    path(ENTITY + "unregister/", views.unregister_entity, name="entity_unregister"),
    path(ENTITY + "overrides/", views.edit_overrides, name="entity_overrides"),
    path("catalog/<str:namespace>/<str:kind>/<str:name>/<slug:tab>/", views.entity_tab, name="entity_tab"),
]
