from django.urls import path

from scorecards.api.views import EntityScorecardsView

app_name = "scorecards-api"

urlpatterns = [
    path("entities/<str:kind>/<str:namespace>/<str:name>", EntityScorecardsView.as_view(), name="entity"),
]
