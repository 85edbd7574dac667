"""What the scorecard pages add to the portal through the plugin registry: the top-bar item and a Group's tab."""

from __future__ import annotations

from plugins.api import EntityTab, MenuItem, register_entity_tab, register_menu_item


def team_tab(request, entity) -> dict:
    from scorecards.views import team_context

    return team_context(request, entity.ref)


def team_has_scores(entity) -> bool:
    from catalog.models import Entity
    from scorecards.models import EntityScore

    owned = Entity.objects.owned_by([entity.ref]).values("ref")
    return EntityScore.objects.filter(entity_ref__in=owned).exists()


def register() -> None:
    from portal import audit
    from scorecards.models import Initiative

    audit.track(Initiative, exclude=["updated_at"])  # who created, changed or deleted one, in the admin or the API
    register_menu_item(MenuItem("Scorecards", "scorecards:index", weight=30))
    register_entity_tab(EntityTab("team-scorecards", "Team scorecards", "scorecards/team_tab.html", team_tab,
                                  kinds=("group",), weight=35, visible=team_has_scores))  # fmt: skip
