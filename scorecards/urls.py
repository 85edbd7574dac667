"""Scorecards pages: exemption requests (the entity tab itself is registered through plugins.api)."""

from django.urls import path

from scorecards import views

app_name = "scorecards"

urlpatterns = [
    path("scorecards/exemptions/", views.exemption_list, name="exemptions"),
    path("scorecards/exemptions/<int:pk>/approve/", views.decide_exemption, {"verdict": "approve"}, name="approve"),
    path("scorecards/exemptions/<int:pk>/deny/", views.decide_exemption, {"verdict": "deny"}, name="deny"),
    path("scorecards/<int:card_pk>/rules/<str:rule_id>/exemption/", views.request_exemption, name="request"),
]
