"""Fact collectors reading real git repositories (portal.git), their storage, and the helpers that read them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.ingestion.refresh import refresh_location, register_location
from plugins.api import FactCollector, register_fact_collector, registry
from portal.git import create_repository_from_directory
from portal.testing.gitrepos import git_target
from scorecards import evaluator, facts
from scorecards.models import Fact, RuleResult

pytestmark = pytest.mark.django_db

SERVICE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: %(name)s}
spec: {type: service, lifecycle: production, owner: team-a}
"""

CARD = """\
apiVersion: callboard.dev/v1alpha1
kind: Scorecard
metadata: {name: repo-hygiene}
spec:
  owner: group:default/team-a
  appliesTo: 'entity.kind == "Component"'
  levels: [Bronze, Silver]
  rules:
%s"""


def rules(*items: tuple[str, str]) -> str:
    line = "    - {{id: {0}, level: Bronze, expression: '{1}', description: {0}}}\n"
    return "".join(line.format(rid, expr) for rid, expr in items)


def publish(bare: Path, files: dict[str, str | bytes], links: dict[str, str] | None = None, message="c") -> str:
    """Commit ``files`` (and symbolic links ``links``: path -> where it points) as the branch's whole tree."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, content in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content.encode() if isinstance(content, str) else content)
        for name, target in (links or {}).items():
            os.symlink(target, root / name)
        return create_repository_from_directory(root, bare, message=message)


def service_repo(tmp: Path, name: str, files: dict[str, str | bytes], links=None) -> Path:
    bare = tmp / f"{name}.git"
    publish(bare, {"catalog-info.yaml": SERVICE % {"name": name}, **files}, links)
    return bare


def register(bare: Path):
    location = register_location(git_target(bare))
    refresh_location(location.pk)
    return location


def card_location(tmp: Path, *items: tuple[str, str]):
    path = tmp / "card.yaml"
    path.write_text(CARD % rules(*items))
    location = register_location(str(path), type="file")
    refresh_location(location.pk)
    return location


def result(ref: str, rule: str) -> tuple[str, str]:
    row = RuleResult.objects.get(entity_ref=ref, rule_id=rule)
    return row.status, row.reason


PYPROJECT = """\
[project]
name = "svc"
dependencies = ["Django>=5.1,<6", "requests==2.32.3"]
[tool.poetry.dependencies]
python = "^3.12"
celery = "^5.4"
"""

PACKAGE_JSON = '{"dependencies": {"react": "^18.2.0", "left-pad": "~1.0.0"}, "devDependencies": {"vite": "5.x"}}'
GO_MOD = "module example.com/svc\n\ngo 1.22\n\nrequire (\n\tgithub.com/lib/pq v1.10.9\n)\n"


@pytest.fixture
def good_and_bad(allow_tmp):
    good = service_repo(allow_tmp, "good", {
        "README.md": "# Good\n\n## Runbook\nPage the on-call.\n",
        "Dockerfile": "FROM python:3.13-slim\n",
        "pyproject.toml": PYPROJECT,
        "web/package.json": PACKAGE_JSON,
        "go.mod": GO_MOD,
        "docs/index.md": "hi",
    })  # fmt: skip
    bad = service_repo(allow_tmp, "bad", {
        "Dockerfile": "FROM python:2.7\n",
        "requirements.txt": "django==4.2.1  # LTS\n-r other.txt\nrequests\n",
        "package.json": "{not json",
        "blob.bin": b"\x00\x01\x02binary",
        "huge.txt": "x" * (300 * 1024),
    }, links={"README.md": "/etc/passwd", "docs": "../../outside"})  # fmt: skip
    register(good)
    register(bad)
    return good, bad


def test_helpers_read_the_repository_at_its_commit(good_and_bad, allow_tmp):
    card_location(
        allow_tmp,
        ("readme", 'file_exists(entity, "README.md")'),
        ("docs-dir", 'file_exists(entity, "docs")'),
        ("runbook", 'file_matches(entity, "README.md", "(?m)^## Runbook")'),
        ("slim-image", 'file_matches(entity, "Dockerfile", "^FROM python:3\\\\.1[2-9]")'),
        ("django-5", 'dependency_satisfies(entity, "django", ">=5.0")'),
        ("react-18", 'dependency_satisfies(entity, "react", ">=18")'),
        ("fresh", 'last_commit_age_days(entity) < 30'),
    )
    summary = facts.collect()
    assert (summary.entities, summary.errors) == (2, 0)  # the scorecard itself is not scored: not read
    evaluator.evaluate()
    good, bad = "component:default/good", "component:default/bad"
    assert {rule: result(good, rule)[0] for rule in ("readme", "docs-dir", "runbook", "slim-image", "django-5",
                                                     "fresh")} == dict.fromkeys(
        ("readme", "docs-dir", "runbook", "slim-image", "django-5", "fresh"), "passed")  # fmt: skip
    # package.json is in web/, not the entity's directory: not read.
    assert result(good, "react-18") == ("failed", "react is not a declared dependency")
    assert result(bad, "readme") == ("failed", "README.md is a symbolic link; links are not followed")
    assert result(bad, "docs-dir") == ("failed", "docs is a symbolic link; links are not followed")
    assert result(bad, "runbook") == ("failed", "README.md is a symbolic link; links are not followed")
    assert result(bad, "slim-image") == ("failed", "Dockerfile does not match ^FROM python:3\\.1[2-9]")
    assert result(bad, "django-5") == ("failed", "django ==4.2.1 allows 4.2.1, which is not >=5.0")
    status, reason = result(bad, "react-18")
    assert status == "failed" and reason.startswith("react is not a declared dependency (package.json: ")


def test_hostile_files_become_error_facts_not_crashes(good_and_bad, allow_tmp):
    card_location(
        allow_tmp,
        ("binary", 'file_matches(entity, "blob.bin", "x")'),
        ("huge", 'file_exists(entity, "huge.txt") && file_matches(entity, "huge.txt", "x")'),
        ("escape", 'file_exists(entity, "../../etc/passwd")'),
        ("bad-regex", 'file_matches(entity, "Dockerfile", "(unclosed")'),
        ("backtracking", 'file_matches(entity, "huge.txt", "(x+)+y")'),
    )
    facts.collect()
    evaluator.evaluate()
    bad = "component:default/bad"
    assert result(bad, "binary") == ("failed", "blob.bin is a binary file")
    assert result(bad, "huge") == ("failed", "huge.txt is 307200 bytes; the limit is 262144")
    assert result(bad, "escape") == ("failed", "Path '../../etc/passwd' leaves the repository")
    assert result(bad, "bad-regex")[0] == "error"
    assert "missing )" in result(bad, "bad-regex")[1]
    assert result(bad, "backtracking")[0] == "failed"  # RE2: linear time, whatever the pattern


def test_facts_are_written_only_when_they_change_and_collected_again_only_for_a_new_commit(good_and_bad, allow_tmp):
    good_bare, _ = good_and_bad
    card_location(allow_tmp, ("readme", 'file_exists(entity, "README.md")'))
    first = facts.collect()
    assert first.written > 0
    stamp = dict(Fact.objects.values_list("pk", "collected_at"))
    again = facts.collect()
    without_git = sum(not c.needs_repository for c in facts.registered_collectors())  # TechDocs' reads no git
    assert (again.written, again.collected) == (0, 2 * without_git)  # same commits: no git collector ran
    assert dict(Fact.objects.values_list("pk", "collected_at")) == stamp
    # A rule naming a new path: the files collector runs again at the same commit.
    card_location(allow_tmp, ("readme", 'file_exists(entity, "README.md")'), ("ci", 'file_exists(entity, ".ci")'))
    assert facts.collect(["component:default/good"]).written == 1
    # A new commit: read again; the commit is recorded on every fact of the repository's collectors.
    sha = publish(good_bare, {"catalog-info.yaml": SERVICE % {"name": "good"}, ".ci": "run"}, message="add ci")
    refresh_location(register_location(git_target(good_bare)).pk)
    facts.collect(["component:default/good"])
    rows = Fact.objects.filter(entity_ref="component:default/good", collector="files")
    assert {row.key: (row.value["kind"], row.commit) for row in rows} == {
        "file:.ci": ("file", sha), "file:README.md": ("missing", sha)}  # fmt: skip


def test_an_entity_without_a_repository_and_a_failing_plugin_get_error_facts(scored_org):
    def explode(source):
        raise RuntimeError("the API is down")

    try:
        register_fact_collector(FactCollector("exploding", explode, needs_repository=False))
        with pytest.raises(ValueError, match="already registered"):
            register_fact_collector(FactCollector("exploding", explode))
        summary = facts.collect(["component:default/ledger"])
    finally:
        registry["fact_collectors"].pop("exploding")
    stored = {(f.collector, f.key): f.value for f in Fact.objects.filter(entity_ref="component:default/ledger")}
    assert stored["exploding", "error"] == {"message": "exploding: the API is down"}
    message = stored["files", "error"]["message"]
    assert message.startswith("the entity is not read from a git repository")
    assert summary.errors == 4  # dependencies, files, git: no repository; exploding: raised


def test_a_plugin_collector_is_read_through_fact(allow_tmp, scored_org):
    plugin = FactCollector("oncall", lambda source: {"rota": {"people": 3}}, needs_repository=False)
    register_fact_collector(plugin)
    try:
        card_location(allow_tmp, ("rota", 'fact(entity, "oncall", "rota").people >= 2'),
                      ("missing", 'fact(entity, "oncall", "nothing") != null'))  # fmt: skip
        facts.collect(["component:default/ledger"])
        evaluator.evaluate(["component:default/ledger"])
    finally:
        registry["fact_collectors"].pop("oncall")
    assert result("component:default/ledger", "rota") == ("passed", "")
    assert result("component:default/ledger", "missing")[0] == "failed"


def test_a_fact_rule_shows_when_its_facts_were_collected(good_and_bad, allow_tmp):
    from catalog.models import Entity
    from scorecards.report import entity_report

    card_location(allow_tmp, ("readme", 'file_exists(entity, "README.md")'), ("plain", "has(entity.spec.owner)"))
    facts.collect()
    evaluator.evaluate()
    collected = Fact.objects.get(entity_ref="component:default/good", key="file:README.md").collected_at
    entity = Entity.objects.select_related("location").get(ref="component:default/good")
    rules = {rule["id"]: rule for rule in entity_report(entity)["scorecards"][0]["rules"]}
    assert rules["readme"]["dataAt"] == collected.isoformat()
    assert rules["plain"]["dataAt"] == entity.location.last_checked_at.isoformat()


def test_one_entity_costs_the_same_queries_whatever_the_number_of_rules(good_and_bad, allow_tmp):
    def queries(count: int) -> int:
        items = [(f"r{i}", f'file_exists(entity, "f{i}") || dependency_satisfies(entity, "django", ">=5")')
                 for i in range(count)]  # fmt: skip
        card_location(allow_tmp, *items)
        facts.collect(["component:default/good"])
        evaluator.evaluate(["component:default/good"])  # first: writes
        with CaptureQueriesContext(connection) as captured:
            evaluator.evaluate(["component:default/good"])
        return len(captured.captured_queries)

    assert queries(2) == queries(20) <= 15  # 13, and 2 to mirror the catalog's initiatives


def test_last_commit_age_counts_days_from_the_commit(good_and_bad, allow_tmp):
    card_location(allow_tmp, ("recent", "last_commit_age_days(entity) <= 0"))
    facts.collect()
    evaluator.evaluate()
    assert result("component:default/good", "recent") == ("passed", "")
    later = facts.timezone.now() + facts.timezone.timedelta(days=45)
    evaluator.evaluate(now=later)
    status, reason = result("component:default/good", "recent")
    assert status == "failed" and reason.endswith("is 45 days old")



def test_facts_read_again_move_the_data_time_not_the_result(good_and_bad, allow_tmp):
    from scorecards.models import Transition

    good_bare, _ = good_and_bad
    card_location(allow_tmp, ("readme", 'file_exists(entity, "README.md")'))
    facts.collect()
    evaluator.evaluate()
    before = RuleResult.objects.get(entity_ref="component:default/good", rule_id="readme")
    transitions = Transition.objects.count()
    publish(good_bare, {"catalog-info.yaml": SERVICE % {"name": "good"}, "README.md": "# Good, again\n"})
    refresh_location(register_location(git_target(good_bare)).pk)
    facts.collect(["component:default/good"])
    evaluator.evaluate(["component:default/good"])
    after = RuleResult.objects.get(entity_ref="component:default/good", rule_id="readme")
    assert (after.status, after.changed_at) == (before.status, before.changed_at)  # still passed since then
    assert after.data_at > before.data_at  # but read at the new commit
    assert Transition.objects.count() == transitions


def test_a_full_collection_forgets_entities_that_left_and_collectors_that_went(good_and_bad, allow_tmp):
    from catalog.models import Entity

    card_location(allow_tmp, ("readme", 'file_exists(entity, "README.md")'))
    facts.collect()
    Fact.objects.create(entity_ref="component:default/good", collector="uninstalled", key="k", value=1,
                        collected_at=facts.timezone.now())  # fmt: skip
    Entity.objects.filter(ref="component:default/bad").delete()
    summary = facts.collect()
    assert not Fact.objects.filter(entity_ref="component:default/bad").exists()
    assert not Fact.objects.filter(collector="uninstalled").exists()
    assert summary.deleted > 1
    assert facts.collect().deleted == 0


def test_only_the_files_file_matches_reads_keep_their_text(good_and_bad, allow_tmp):
    card_location(allow_tmp, ("readme", 'file_exists(entity, "README.md")'))
    facts.collect()
    stored = Fact.objects.get(entity_ref="component:default/good", key="file:README.md")
    assert stored.value == {"kind": "file"}
    card_location(allow_tmp, ("readme", 'file_exists(entity, "README.md")'),
                  ("runbook", 'file_matches(entity, "README.md", "(?m)^## Runbook")'))  # fmt: skip
    assert facts.collect(["component:default/good"]).written == 1  # same commit: read again for its text
    stored.refresh_from_db()
    assert stored.value["text"].startswith("# Good")


def test_the_paths_rules_name_are_found_in_their_expressions():
    from scorecards.cel import named_paths

    expression = """file_exists(entity, "a/b.md") || file_matches( entity , 'Dockerfile', "^FROM") || x("c")"""
    assert named_paths(expression) == [("a/b.md", False), ("Dockerfile", True)]
