"""The demo organisation ships two scorecards that show real passes and failures."""

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Entity, ProcessingError
from scorecards.initiatives import progress
from scorecards.models import EntityScore, Initiative, RuleResult


@pytest.mark.django_db
def test_the_demo_scorecards_pass_and_fail_for_real(settings, tmp_path):
    settings.LOCAL_REPOS_DIR = tmp_path / "repos"
    settings.GIT_CACHE_DIR = tmp_path / "cache"
    settings.CATALOG_ALLOWED_PATHS = [str(tmp_path)]
    call_command("demo", "load", stdout=StringIO())
    assert not ProcessingError.objects.exists()
    assert set(Entity.objects.filter(kind="Scorecard").values_list("ref", flat=True)) == {
        "scorecard:default/production-readiness", "scorecard:default/docs-quality"}  # fmt: skip
    out = StringIO()
    call_command("scorecards", "evaluate", stdout=out, stderr=StringIO())
    for card in ("production-readiness", "docs-quality"):
        statuses = set(RuleResult.objects.filter(scorecard__name=card).values_list("status", flat=True))
        assert {"passed", "failed"} <= statuses <= {"passed", "failed", "exempt"}, card
        levels = set(EntityScore.objects.filter(scorecard__name=card).values_list("level", flat=True))
        assert len(levels) >= 2, (card, levels)  # entities at different levels
    silver = progress(Initiative.objects.get(slug="production-readiness-silver"))
    assert 0 < silver.done < silver.total and len(silver.teams) >= 2  # real progress, several teams
    assert silver.days_left == 28 and [n for _, n in silver.burnup] == [silver.done]
    kubernetes = progress(Initiative.objects.get(slug="kubernetes-view"))  # a rule target, a narrower scope
    assert 0 < kubernetes.done < kubernetes.total < silver.total and kubernetes.days_left == 42
    gtfs = {r.rule_id: r.status for r in RuleResult.objects.filter(entity_ref="component:default/gtfs-importer")}
    assert gtfs["described"] == "failed" and gtfs["techdocs"] == "failed" and gtfs["owned-by-a-team"] == "passed"
    assert "component:default/gtfs-importer" in out.getvalue()
    # The demo's approved exemption: the timetable service's on-call rule is waived, which makes it Gold.
    on_call = RuleResult.objects.get(entity_ref="component:default/timetable-service", rule_id="on-call")
    assert on_call.status == "exempt" and "approved by admin" in on_call.reason
    assert EntityScore.objects.get(entity_ref="component:default/timetable-service",
                                   scorecard__name="production-readiness").level == "Gold"  # fmt: skip
    # Rules on facts read from the demo repositories: real passes and failures.
    def status(ref: str, rule: str) -> tuple[str, str]:
        found = RuleResult.objects.get(entity_ref=f"component:default/{ref}", rule_id=rule)
        return found.status, found.reason

    assert status("timetable-service", "runbook") == ("passed", "")
    assert status("gtfs-importer", "runbook") == ("failed", "README.md does not match (?im)^#+ .*runbook")
    assert status("timetable-service", "supported-django") == ("passed", "")
    assert status("gtfs-importer", "supported-django") == (
        "failed", "django ==4.2.16 allows 4.2.16, which is not >=5.0")  # fmt: skip
    assert status("gtfs-importer", "readme")[0] == "passed"
    assert status("fare-engine", "readme") == (
        "failed", "README.md does not exist in services/fare-engine/ of the repository")  # fmt: skip
