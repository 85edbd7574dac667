"""Scorecard pages, exemption requests and badges (docs/scorecards.md)."""

from django.urls import path

from scorecards import exemption_views as exemptions
from scorecards import views

app_name = "scorecards"

urlpatterns = [
    path("scorecards/exemptions/", exemptions.exemption_list, name="exemptions"),
    path("scorecards/exemptions/<int:pk>/approve/", exemptions.decide_exemption, {"verdict": "approve"},
         name="approve"),
    path("scorecards/exemptions/<int:pk>/deny/", exemptions.decide_exemption, {"verdict": "deny"}, name="deny"),
    path("scorecards/<int:card_pk>/rules/<str:rule_id>/exemption/", exemptions.request_exemption, name="request"),
    path("scorecards/", views.index, name="index"),
    path("scorecards/initiatives/<slug:slug>/", views.initiative_page, name="initiative"),
    path("scorecards/teams/<str:namespace>/<str:name>/", views.team_page, name="team"),
    path("scorecards/<str:namespace>/<str:name>/", views.scorecard_page, name="scorecard"),
    path("badges/scorecards/<str:kind>/<str:namespace>/<str:name>/<str:scorecard>.svg", views.badge, name="badge"),
]
