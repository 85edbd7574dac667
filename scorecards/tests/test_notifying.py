"""Level drops are told to the entity's owners (their inbox), once the evaluation's writes commit."""

import pytest
from django.contrib.auth import get_user_model

from catalog.ingestion.refresh import refresh_location
from catalog.ownership import person
from portal.models import Notification
from scorecards import evaluator
from scorecards.notifying import people_of
from scorecards.tests.fixtures import ORG, SCORECARD

pytestmark = pytest.mark.django_db

WITHOUT_DOCS = ORG.replace("annotations: {backstage.io/techdocs-ref: dir:.}", "annotations: {}")


def user(name: str):
    row = get_user_model().objects.create_user(name, f"{name}@example.com", "pw-12345-long")
    person(row)
    return row


def test_owners_hear_when_a_level_drops_and_only_then(scored_org, allow_tmp, django_capture_on_commit_callbacks):
    pat, sam, olga = user("pat"), user("sam"), user("olga")
    assert {u.username for u in people_of(["group:default/payments"])} == {"pat", "sam"}
    with django_capture_on_commit_callbacks(execute=True):
        evaluator.evaluate()  # first results: nothing dropped
    assert not Notification.objects.exists()
    # checkout loses its TechDocs annotation: Gold -> Silver.
    (allow_tmp / "catalog-info.yaml").write_text("---\n".join([WITHOUT_DOCS, SCORECARD]))
    refresh_location(scored_org.pk)
    with django_capture_on_commit_callbacks(execute=True):
        evaluator.evaluate()
    rows = Notification.objects.filter(category="scorecards.level-dropped").order_by("user__username")
    assert [n.user for n in rows] == [pat, sam] and olga not in [n.user for n in rows]
    assert rows[0].title == "component:default/checkout dropped from Gold to Silver"
    assert rows[0].url == "/catalog/default/component/checkout/scorecards/"
    with django_capture_on_commit_callbacks(execute=True):
        evaluator.evaluate()  # nothing changed: nothing new
    assert Notification.objects.count() == 2


def test_a_level_going_up_notifies_no_one(scored_org, allow_tmp, django_capture_on_commit_callbacks):
    user("pat")
    (allow_tmp / "catalog-info.yaml").write_text("---\n".join([WITHOUT_DOCS, SCORECARD]))
    refresh_location(scored_org.pk)
    evaluator.evaluate()
    (allow_tmp / "catalog-info.yaml").write_text("---\n".join([ORG, SCORECARD]))
    refresh_location(scored_org.pk)
    with django_capture_on_commit_callbacks(execute=True):
        evaluator.evaluate()
    assert not Notification.objects.exists()


def test_many_drops_for_one_owner_make_one_digest(scored_org, django_capture_on_commit_callbacks, monkeypatch):
    from scorecards import notifying
    from scorecards.models import Scorecard

    monkeypatch.setattr(notifying, "DIGEST_AFTER", 2)  # the threshold, not behaviour: three drops make a digest
    pat = user("pat")
    evaluator.evaluate()
    card = Scorecard.objects.get()
    card.spec = {**card.spec, "appliesTo": 'entity.kind == "Component"'}  # site too: three payments components
    card.save()
    evaluator.evaluate(sync=False)
    card.spec = {**card.spec, "rules": [{**card.spec["rules"][0], "expression": "false"}, *card.spec["rules"][1:]]}
    card.save()
    with django_capture_on_commit_callbacks(execute=True):
        evaluator.evaluate(sync=False)
    rows = list(Notification.objects.filter(user=pat))
    assert len(rows) == 1 and rows[0].title == "3 entities of group:default/payments dropped a level"
    assert "component:default/checkout: Gold → no level (Production readiness)" in rows[0].body
