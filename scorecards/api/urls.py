from django.urls import path

from scorecards.api.views import EntityScorecardsView, ExemptionDecisionView, ExemptionsView

app_name = "scorecards-api"

urlpatterns = [
    path("entities/<str:kind>/<str:namespace>/<str:name>", EntityScorecardsView.as_view(), name="entity"),
    path("exemptions", ExemptionsView.as_view(), name="exemptions"),
    path("exemptions/<int:pk>/approve", ExemptionDecisionView.as_view(verdict="approve"), name="exemption-approve"),
    path("exemptions/<int:pk>/deny", ExemptionDecisionView.as_view(verdict="deny"), name="exemption-deny"),
]
