from django.urls import path
from rest_framework.routers import SimpleRouter

from scorecards.api import summaries
from scorecards.api.views import EntityScorecardsView, ExemptionDecisionView, ExemptionsView

app_name = "scorecards-api"

router = SimpleRouter(trailing_slash="")
router.register("initiatives", summaries.InitiativeViewSet, basename="initiative")

urlpatterns = [
    path("entities/<str:kind>/<str:namespace>/<str:name>", EntityScorecardsView.as_view(), name="entity"),
    path("scorecards", summaries.ScorecardListView.as_view(), name="scorecards"),
    path("scorecards/<str:namespace>/<str:name>", summaries.ScorecardDetailView.as_view(), name="scorecard"),
    path("scorecards/<str:namespace>/<str:name>/as-of", summaries.ScorecardAsOfView.as_view(), name="as-of"),
    path("teams/<str:namespace>/<str:name>", summaries.TeamView.as_view(), name="team"),
    path("exemptions", ExemptionsView.as_view(), name="exemptions"),
    path("exemptions/<int:pk>/approve", ExemptionDecisionView.as_view(verdict="approve"), name="exemption-approve"),
    path("exemptions/<int:pk>/deny", ExemptionDecisionView.as_view(verdict="deny"), name="exemption-deny"),
    *router.urls,
]
