"""Scorecard pages and badges (docs/scorecards.md)."""

from django.urls import path

from scorecards import views

app_name = "scorecards"

urlpatterns = [
    path("scorecards/", views.index, name="index"),
    path("scorecards/initiatives/<slug:slug>/", views.initiative_page, name="initiative"),
    path("scorecards/teams/<str:namespace>/<str:name>/", views.team_page, name="team"),
    path("scorecards/<str:namespace>/<str:name>/", views.scorecard_page, name="scorecard"),
    path("badges/scorecards/<str:kind>/<str:namespace>/<str:name>/<str:scorecard>.svg", views.badge, name="badge"),
]
