"""Backstage's own files, registered as real locations: nesting, globs, placeholders, expected errors.

Reads ../shared/backstage-corpus (skipped with a reason when it is absent); nothing is copied.
"""

import shutil

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import Entity, EntityOverride, ProcessingError, Relation
from catalog.shapes import entity_to_backstage

pytestmark = [pytest.mark.django_db, pytest.mark.corpus]


@pytest.fixture
def corpus(shared_dir, settings, tmp_path):
    root = shared_dir / "backstage-corpus"
    settings.CATALOG_ALLOWED_PATHS = [str(root)]
    settings.GIT_CACHE_DIR = tmp_path / "cache"
    return root


def register(path) -> object:
    location = register_location(str(path), type="file")
    refresh_location(location.pk)
    return location


def errors_of(location) -> list[str]:
    return [f"{e.file} {e.rule}: {e.message}" for e in ProcessingError.objects.filter(location=location)]


def test_acme_org_relations(corpus):
    location = register(corpus / "catalog/backstage-examples/acme-corp.yaml")
    assert errors_of(location) == []
    chain = [("group:default/acme-corp", "group:default/infrastructure"),
             ("group:default/infrastructure", "group:default/backstage"),
             ("group:default/backstage", "group:default/team-a")]  # fmt: skip
    for parent, child in chain:
        assert Relation.objects.filter(source_ref=parent, type="parentOf", target_ref=child).exists()
        assert Relation.objects.filter(source_ref=child, type="childOf", target_ref=parent).exists()


def test_backstage_examples_all_yaml(corpus):
    location = register(corpus / "catalog/backstage-examples/all.yaml")
    problems = errors_of(location)
    # Known gaps of the corpus (SOURCES.md): all-apis.yaml is absent; the wayback APIs' $text points at
    # another repository's URL, which a file location cannot read.
    assert any("all-apis.yaml" in p for p in problems), problems  # never vacuous: the gap is reported
    assert all(("all-apis.yaml" in p) or ("wayback" in p) for p in problems), problems
    component = Entity.objects.get(ref="component:default/artist-lookup")
    shaped = entity_to_backstage(component)
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in shaped["relations"]
    assert shaped["metadata"]["annotations"]["backstage.io/managed-by-origin-location"].endswith("all.yaml")


def one_platform_repo(corpus, tmp_path):
    """The corpus keeps the repository's root file beside its tree; put it back at the tree's root."""
    repo = tmp_path / "one-platform"
    shutil.copytree(corpus / "wild/1-Platform__one-platform", repo)
    shutil.copy(corpus / "wild/1-Platform__one-platform__catalog-info.yaml", repo / "catalog-info.yaml")
    return repo


def one_platform_repo_path(tmp_path):
    return tmp_path / "one-platform"


def test_one_platform_tree_with_nested_targets(corpus, tmp_path, settings):
    settings.CATALOG_ALLOWED_PATHS = [str(corpus), str(tmp_path)]
    location = register(one_platform_repo(corpus, tmp_path) / "catalog-info.yaml")
    problems = errors_of(location)
    # doc-spa.yaml points at a host that is not allowed here (Backstage could not reach it either).
    assert any("doc-spa.yaml" in p for p in problems), problems
    assert all("CATALOG_ALLOWED_HOSTS" in p for p in problems), problems
    couch = register(one_platform_repo_path(tmp_path) / "catalog/resources/CouchDB.yaml")
    rules = set(ProcessingError.objects.filter(location=couch).values_list("rule", flat=True))
    assert rules == {"unknown-root-field"}, rules  # a misplaced root-level dependsOn, rejected by Backstage too
    assert Entity.objects.filter(kind="Component").count() >= 10
    assert Relation.objects.filter(type="dependencyOf").exists()


def test_roadie_glob_location(corpus, tmp_path, settings):
    """Glob targets expand against the file tree; the corpus has no plugin files, so one is made."""
    settings.CATALOG_ALLOWED_PATHS = [str(tmp_path)]
    repo = tmp_path / "roadie"
    plugin = repo / "plugins" / "frontend" / "example"
    plugin.mkdir(parents=True)
    shutil.copy(corpus / "wild/RoadieHQ__roadie-backstage-plugins__catalog-info.yaml", repo / "catalog-info.yaml")
    (plugin / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: example-plugin}\n"
        "spec: {type: library, lifecycle: production, owner: roadie}\n"
    )
    location = register(repo / "catalog-info.yaml")
    assert Entity.objects.filter(ref="component:default/example-plugin").exists()
    problems = errors_of(location)
    # utils/** matches nothing: a required target with no match is an error, as in Backstage.
    assert problems and all("not-found" in p and "utils" in p for p in problems), problems


def test_unknown_kinds_are_stored_generically(corpus):
    location = register(corpus / "catalog/demo/examples/ai-resources.yaml")
    assert errors_of(location) == []
    unknown = Entity.objects.filter(known_kind=False)
    assert unknown.exists()
    assert all(e.kind == "AiResource" for e in unknown)


def test_every_wild_file_processes_as_backstage_would(corpus):
    """No validation errors; only targets in other repositories (absent from the corpus) fail to read."""
    expected_failures = {"CouchDB.yaml"}
    # Several public repos define the same refs (e.g. system:default/rhdh): registered into one catalog,
    # the later location gets a conflict error, as in Backstage.
    unreadable = {"read-failed", "not-found", "bad-target", "conflict"}
    for path in sorted((corpus / "wild").glob("*.yaml")):
        if path.name.startswith(("1-Platform__one-platform", "RoadieHQ")):
            continue  # their targets are relative to their repositories: see the two tests above
        location = register(path)
        problems = [
            f"{e.file} {e.rule}: {e.message}"
            for e in ProcessingError.objects.filter(location=location).exclude(rule__in=unreadable)
            if not any(name in e.file for name in expected_failures)
        ]
        assert problems == [], (path.name, problems)


def test_admin_override_survives_a_refresh(corpus):
    location = register(corpus / "catalog/backstage-examples/acme-corp.yaml")
    EntityOverride.objects.create(entity_ref="group:default/team-a", verified_owner="group:default/acme-corp",
                                  extra_tags=["audited"])  # fmt: skip
    refresh_location(location.pk, force=True)
    shaped = entity_to_backstage(Entity.objects.get(ref="group:default/team-a"))
    assert shaped["overrides"] == {"verifiedOwner": "group:default/acme-corp", "extraTags": ["audited"]}
