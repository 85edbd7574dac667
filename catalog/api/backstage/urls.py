"""Backstage-compatible routes, mounted at /api/catalog/."""

from django.urls import path, re_path

from catalog.api.backstage import views

urlpatterns = [
    path("entities", views.EntitiesView.as_view(), name="entities"),
    path("entities/by-query", views.EntitiesByQueryView.as_view(), name="entities-by-query"),
    path("entities/by-refs", views.EntitiesByRefsView.as_view(), name="entities-by-refs"),
    path(
        "entities/by-name/<str:kind>/<str:namespace>/<str:name>",
        views.EntityByNameView.as_view(),
        name="entity-by-name",
    ),
    path(
        "entities/by-name/<str:kind>/<str:namespace>/<str:name>/ancestry",
        views.EntityAncestryView.as_view(),
        name="entity-ancestry",
    ),
    path("entities/by-uid/<uuid:uid>", views.EntityByUidView.as_view(), name="entity-by-uid"),
    path("entity-facets", views.EntityFacetsView.as_view(), name="entity-facets"),
    path("locations", views.LocationsView.as_view(), name="locations"),
    path("locations/by-query", views.LocationsByQueryView.as_view(), name="locations-by-query"),
    path(
        "locations/by-entity/<str:kind>/<str:namespace>/<str:name>",
        views.LocationByEntityView.as_view(),
        name="location-by-entity",
    ),
    path("locations/<uuid:location_id>", views.LocationDetailView.as_view(), name="location"),
    path("refresh", views.RefreshView.as_view(), name="refresh"),
    path("validate-entity", views.ValidateEntityView.as_view(), name="validate-entity"),
    path("webhooks/<str:provider>", views.PushWebhookView.as_view(), name="webhook"),
    path("analyze-location", views.AnalyzeLocationView.as_view(), name="analyze-location"),
    re_path(r"^.*$", views.UnknownPathView.as_view()),  # last: a 404 in Backstage's shape, not an HTML page
]
