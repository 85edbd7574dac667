"""enableOn rules, cross-entity and API-definition helpers, TechDocs freshness, and dependency manifests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import Entity
from scorecards import cel, dependencies, evaluator
from scorecards.models import EntityScore, RuleResult
from scorecards.report import entity_report
from scorecards.tests.fixtures import ORG, SCORECARD, load
from scorecards.tests.test_kind import HEAD, errors_of

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def run(expression: str, entity: dict, facts: cel.CatalogFacts | None = None) -> cel.Outcome:
    return cel.evaluate(cel.compile_expression(expression), entity, facts or cel.CatalogFacts(now=NOW))


# -- enableOn ----------------------------------------------------------------------------------------------


def test_enable_on_is_an_optional_day():
    rule = "    - {id: a, level: Bronze, description: A, expression: 'true', enableOn: %s}\n"
    assert errors_of(HEAD + rule % "2027-01-31") == {}  # YAML's date, read as text by the catalog
    assert errors_of(HEAD + rule % "'2027-02-30'")["spec.rules[0].enableOn"] == (
        "scorecard-enable-on", 'enableOn "2027-02-30" is not a date (YYYY-MM-DD)')  # fmt: skip
    assert errors_of(HEAD + rule % "'next week'")["spec.rules[0].enableOn"][0] == "scorecard-enable-on"


@pytest.mark.django_db
def test_a_rule_enabled_later_is_shown_but_not_counted_before_its_day(allow_tmp):
    later = "    - {id: runbook, level: Bronze, expression: 'has_system(entity)', description: Has a system, " \
            "enableOn: 2027-01-31}\n"  # fmt: skip
    load(allow_tmp, ORG, SCORECARD.replace("  rules:\n", "  rules:\n" + later))
    evaluator.evaluate(now=NOW)
    ledger = "component:default/ledger"  # no system: the new rule fails
    assert RuleResult.objects.get(entity_ref=ledger, rule_id="runbook").status == "failed"
    score = EntityScore.objects.get(entity_ref=ledger)
    assert (score.level, score.passed, score.total) == ("Bronze", 2, 4)  # as without the rule
    entity = Entity.objects.select_related("location").get(ref=ledger)
    rules = {r["id"]: r for r in entity_report(entity, now=NOW)["scorecards"][0]["rules"]}
    assert (rules["runbook"]["enableOn"], rules["runbook"]["counted"]) == ("2027-01-31", False)
    assert rules["lifecycle-set"]["counted"] is True
    evaluator.evaluate(now=datetime(2027, 1, 31, tzinfo=UTC))  # the day comes: it counts, Bronze is lost
    score.refresh_from_db()
    assert (score.level, score.passed, score.total) == ("", 2, 5)


# -- cross-entity ----------------------------------------------------------------------------------------

DEPENDENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: storefront, description: The shop}
spec: {type: service, lifecycle: production, owner: payments, dependsOn: [component:checkout, component:ledger,
  resource:db]}
"""


@pytest.mark.django_db
def test_dependencies_at_least_reads_the_stored_levels_of_dependencies(allow_tmp):
    rule = ("    - {id: deps-silver, level: Gold, expression: "
            "'dependencies_at_least(entity, \"production-readiness\", \"Silver\")', description: Deps}\n")  # fmt: skip
    load(allow_tmp, ORG, DEPENDENT, SCORECARD.replace("  rules:\n", "  rules:\n" + rule))
    evaluator.evaluate()  # first: no stored levels yet for the dependencies (they are not counted)
    evaluator.evaluate()
    found = RuleResult.objects.get(entity_ref="component:default/storefront", rule_id="deps-silver")
    # checkout: Gold -> fine; ledger: Bronze -> below; resource:db has no score on this scorecard -> ignored.
    assert (found.status, found.reason) == (
        "failed", "dependencies below Silver on scorecard:default/production-readiness: component:default/ledger "
        "(Bronze)")  # fmt: skip
    checkout = RuleResult.objects.get(entity_ref="component:default/checkout", rule_id="deps-silver")
    assert checkout.status == "passed"  # no dependencies


def test_dependencies_at_least_names_an_unknown_scorecard_or_level():
    facts = cel.CatalogFacts(scorecard_levels={"scorecard:default/x": ["Bronze"]})
    assert run('dependencies_at_least(entity, "y", "Bronze")', {}, facts).reason == "there is no scorecard " \
        "scorecard:default/y"  # fmt: skip
    assert run('dependencies_at_least(entity, "x", "Gold")', {}, facts).reason == (
        '"Gold" is not a level of scorecard:default/x (Bronze)')  # fmt: skip


# -- API definitions -------------------------------------------------------------------------------------


def api(api_type: str, definition) -> dict:
    return {"kind": "API", "metadata": {"name": "a"}, "spec": {"type": api_type, "definition": definition}}


@pytest.mark.parametrize(
    ("entity", "reason"),
    [
        (api("openapi", "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n"), ""),
        (api("openapi", '{"swagger": "2.0", "info": {"title": "x"}}'), ""),
        (api("asyncapi", "asyncapi: 2.6.0\ninfo: {title: x, version: '1'}\n"), ""),
        (api("graphql", 'type Query {\n  "a { brace"\n  me: User # }\n}\n'), ""),
        (api("grpc", "syntax = 'proto3';"), ""),
        (api("openapi", "info: [unclosed\n"), "spec.definition is not valid YAML or JSON at line 2, column 1"),
        (api("openapi", "title: no version\n"), "spec.definition has no openapi or swagger version field"),
        (api("asyncapi", "asyncapi: 2.6.0\n"), "spec.definition has no info object"),
        (api("graphql", "type Q { me: U"), "spec.definition is not GraphQL SDL (unbalanced brackets or no definition)"),
        (api("openapi", "  "), "spec.definition is missing or empty"),
        ({"kind": "Component", "spec": {}}, "Component entities have no API definition"),
    ],
)
def test_api_definition_valid(entity, reason):
    outcome = run("api_definition_valid(entity)", entity)
    assert (outcome.passed, outcome.reason) == (not reason, reason)


# -- TechDocs ---------------------------------------------------------------------------------------------

DOCUMENTED = {"kind": "Component", "metadata": {"name": "svc", "annotations": {cel.TECHDOCS_ANNOTATION: "dir:."}}}


def test_techdocs_fresh_reads_the_site_fact_techdocs_collects():
    collected = NOW - timedelta(hours=1)

    def facts(site) -> cel.CatalogFacts:
        stored = {"component:default/svc": {("techdocs", "site"): (site, collected)}}
        return cel.CatalogFacts(now=NOW, entity_facts=stored)

    published = (NOW - timedelta(days=3)).timestamp()
    fresh = run("techdocs_fresh(entity, 7)", DOCUMENTED, facts({"status": "ok", "published_at": published}))
    assert (fresh.passed, fresh.data_at) == (True, collected)
    stale = run("techdocs_fresh(entity, 2)", DOCUMENTED, facts({"status": "ok", "published_at": published}))
    assert stale.reason == "the docs were last published 3 days ago (more than 2)"
    never = run("techdocs_fresh(entity, 2)", DOCUMENTED, facts({"status": "failed", "published_at": None}))
    assert never.reason == "the docs have not been published (build failed)"
    undocumented = run("techdocs_fresh(entity, 2)", {"kind": "Component", "metadata": {"name": "svc"}})
    assert undocumented.reason == f"annotation {cel.TECHDOCS_ANNOTATION} is missing"


# -- manifests ---------------------------------------------------------------------------------------------


def test_manifests_parse_and_refuse_with_where():
    assert dependencies.parse_requirements("Django[argon2]>=5.0 ; python_version>'3'\n# c\n-e .\nreq\n") == {
        "django": ">=5.0", "req": ""}  # fmt: skip
    with pytest.raises(dependencies.ManifestError, match=r"requirements\.txt line 2"):
        dependencies.parse_requirements("ok\nnot a valid ==== line\n")
    with pytest.raises(dependencies.ManifestError, match=r"pyproject\.toml"):
        dependencies.parse_pyproject("[project\n")
    poetry = '[tool.poetry.dependencies]\npython = "^3.12"\nFlask = {version = "~2.3"}\n' \
             '[tool.poetry.group.dev.dependencies]\npytest = "8.1"\n'  # fmt: skip
    assert dependencies.parse_pyproject(poetry) == {"flask": ">=2.3", "pytest": "==8.1"}
    assert dependencies.parse_go_mod("require golang.org/x/net v0.30.0 // indirect\n") == {
        "golang.org/x/net": "v0.30.0"}  # fmt: skip


@pytest.mark.parametrize(
    ("ecosystem", "declared", "wanted", "ok"),
    [
        ("pypi", ">=5.1,<6", ">=5.0", True),
        ("pypi", "~=4.2", ">=5.0", False),
        ("pypi", "", ">=5.0", False),
        ("npm", "^18.2.0", ">=18 <19", True),
        ("npm", "~17.0.1", "^18", False),
        ("npm", "1.2.x", "~1.2", True),
        ("npm", "latest", ">=1", False),
        ("go", "v1.10.9", ">=1.10.0", True),
        ("go", "v0.9.0", "^1.0.0", False),
    ],
)
def test_satisfies_compares_the_lowest_allowed_version(ecosystem, declared, wanted, ok):
    assert dependencies.satisfies(ecosystem, "pkg", declared, wanted).ok is ok


def test_a_bad_wanted_range_says_so():
    assert dependencies.satisfies("pypi", "d", ">=1", "five").reason == '"five" is not a PEP 440 version range'
    assert dependencies.satisfies("npm", "d", "^1", "not a range!").reason == '"not a range!" is not a version range'
