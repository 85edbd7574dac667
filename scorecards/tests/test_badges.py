"""README badges: shown to whom, cached how, and escaped."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from scorecards import evaluator
from scorecards.badges import svg
from scorecards.models import Scorecard

pytestmark = pytest.mark.django_db

URL = "/badges/scorecards/component/default/checkout/production-readiness.svg"


@pytest.fixture
def scored(scored_org):
    evaluator.evaluate()


def test_signed_in_readers_get_the_level(scored, django_assert_max_num_queries):
    client = Client()
    client.force_login(get_user_model().objects.create_user("viewer", "v@example.com", "pw"))
    client.get(URL)
    with django_assert_max_num_queries(6):
        reply = client.get(URL)
    assert reply.status_code == 200 and reply["Content-Type"] == "image/svg+xml; charset=utf-8"
    body = reply.content.decode()
    assert "<title>Production readiness: Gold</title>" in body and 'fill="#d4a017"' in body
    assert reply["Cache-Control"] == "private, max-age=300" and reply["Vary"] == "Cookie" and reply["ETag"]
    orphan = client.get(URL.replace("checkout", "orphan-svc")).content.decode()
    assert "Production readiness: no level" in orphan


def test_anonymous_visitors_get_it_only_when_the_entity_is_public(scored, settings):
    reply = Client().get(URL)
    assert reply.status_code == 404 and "scorecard: unknown" in reply.content.decode()  # no redirect to sign in
    settings.SCORECARDS_PUBLIC_BADGES = True
    public = Client().get(URL)
    assert public.status_code == 200 and public["Cache-Control"] == "public, max-age=300"


def test_hidden_and_missing_entities_look_alike(scored, settings):
    settings.CALLBOARD_DEFAULT_ROLE = "none"
    client = Client()
    client.force_login(get_user_model().objects.create_user("outsider", "o@example.com", "pw"))
    hidden, missing = client.get(URL), client.get(URL.replace("checkout", "nope"))
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    assert client.get(URL.replace("production-readiness", "nope")).status_code == 404


def test_names_are_escaped_in_the_svg(scored):
    Scorecard.objects.filter(name="production-readiness").update(title='<script>"x"</script>&')
    client = Client()
    client.force_login(get_user_model().objects.create_user("viewer", "v@example.com", "pw"))
    body = client.get(URL).content.decode()
    assert "<script>" not in body and "&lt;script&gt;&quot;x&quot;&lt;/script&gt;&amp;" in body
    assert "<text" in svg("a</text><text>", "b", "#fff") and "a&lt;/text&gt;" in svg("a</text>", "b", '"><x')
    assert '"><x' not in svg("a", "b", '"><x')
