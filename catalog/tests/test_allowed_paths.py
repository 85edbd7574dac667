"""Nothing outside CATALOG_ALLOWED_PATHS is ever read: globs, symbolic links, placeholders, nested Location
targets and git paths (issue 12, defect 1). Every refusal is a located error; no content of a refused file
(``/etc/passwd`` here) reaches an error message or a stored row."""

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from catalog.ingestion.readers import ReadError, SourceReader
from catalog.ingestion.refresh import refresh_location, register_location
from catalog.ingestion.sources import FileSource, SourceError, parse_target
from catalog.models import Entity, Location, ProcessingError, Relation, SearchRow
from portal.git import create_repository_from_directory
from portal.testing.access import grant
from portal.testing.gitrepos import git_target, make_repo

pytestmark = pytest.mark.django_db

PASSWD_LINES = [line for line in Path("/etc/passwd").read_text().splitlines() if line.strip()]
SECRET = "SECRET-MARKER-4f1c"
DEEP_UP = "../" * 30  # more '..' than any tmp path is deep: ends at '/'


def group(name: str) -> str:
    return (
        f"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {{name: {name}}}\n"
        "spec: {type: team, children: []}\n"
    )


def api(name: str, key: str, target: str) -> str:
    return (
        f"apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {{name: {name}}}\n"
        f"spec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n"
        f"  definition: {{{json.dumps(key)}: {json.dumps(target)}}}\n"
    )


@pytest.fixture
def tree(settings, tmp_path):
    """tmp/allowed (the only allowed path) with dir/team-a/catalog-info.yaml; tmp/elsewhere beside it with
    descriptors and a secret that must never be read."""
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    (allowed / "dir" / "team-a").mkdir(parents=True)
    elsewhere.mkdir()
    (allowed / "dir" / "team-a" / "catalog-info.yaml").write_text(group("team-a"))
    (elsewhere / "other.yaml").write_text(group("stolen"))
    (elsewhere / "catalog-info.yaml").write_text(group("stolen-too"))
    (elsewhere / "secret.txt").write_text(f"{SECRET}\n")
    (elsewhere / "secret.json").write_text(json.dumps({"secret": SECRET}))
    settings.CATALOG_ALLOWED_PATHS = [str(allowed)]
    settings.CATALOG_ALLOWED_HOSTS = ["github.com", "gitlab.com"]
    settings.GIT_CACHE_DIR = tmp_path / "git-cache"
    return SimpleNamespace(allowed=allowed, elsewhere=elsewhere)


def stored() -> str:
    """Everything the catalog stored, as one string."""
    rows = [list(model.objects.values()) for model in (Location, Entity, ProcessingError, Relation, SearchRow)]
    return json.dumps(rows, default=str)


def assert_nothing_leaked(extra: str = "") -> None:
    text = stored() + extra
    assert SECRET not in text
    assert "stolen" not in text
    leaked = [line for line in PASSWD_LINES if line in text]
    assert not leaked, f"/etc/passwd content stored: {leaked[:2]}"


def names() -> set[str]:
    """The valid entities stored (one whose processing failed is stored too, as errors on a placeholder)."""
    return set(Entity.objects.filter(valid=True).values_list("name", flat=True))


def escapes(tree) -> list[str]:
    a = tree.allowed
    return [
        f"{a}/*/../../elsewhere/other.yaml",
        f"{a}/*/{DEEP_UP}etc/passwd",
        f"{a}/dir/*/../../../elsewhere/*.yaml",
        f"{a}/dir/**/../../../elsewhere/other.yaml",
        f"file://{a}/*/../../elsewhere/other.yaml",
        f"{a}/../elsewhere/*.yaml",
        f"{a}x/*.yaml",  # a sibling whose name starts with the allowed directory's
        "/*/passwd",
    ]


# -- registration ------------------------------------------------------------------------------------------


def test_glob_escapes_are_refused_at_registration_by_the_api(api_client, user, tree):
    grant("platform-admin", user=user)
    for target in escapes(tree):
        for url in ("/api/catalog/locations", "/api/catalog/locations?dryRun=true"):
            answer = api_client.post(url, {"type": "file", "target": target}, format="json")
            assert answer.status_code == 400, (target, answer.content)
            body = answer.json()
            assert body["error"]["name"] == "InputError"
            assert "not allowed" in body["error"]["message"] or "'..'" in body["error"]["message"], body
            assert_nothing_leaked(answer.content.decode())
        analyzed = api_client.post("/api/catalog/analyze-location", {"location": {"type": "file", "target": target}},
                                   format="json")  # fmt: skip
        assert analyzed.status_code == 400, (target, analyzed.content)
    assert not Location.objects.exists()


def test_glob_escapes_are_refused_by_the_cli(tree):
    for target in escapes(tree):
        with pytest.raises(CommandError, match=r"not allowed|'\.\.'"):
            call_command("catalog", "register", target, "--type", "file")
    assert not Location.objects.exists()


def test_a_glob_with_dotdot_is_refused_with_a_clear_message(tree):
    with pytest.raises(SourceError, match="contains '\\.\\.'; a glob may not climb out of its directory"):
        parse_target("file", f"{tree.allowed}/*/../dir/team-a/catalog-info.yaml")
    fine = f"{tree.allowed}/dir/*/catalog-info.yaml"
    assert parse_target("file", fine).path == fine
    os.symlink(tree.elsewhere, tree.allowed / "out")  # the glob's fixed directory is checked by its real path
    with pytest.raises(SourceError, match="not allowed"):
        parse_target("file", f"{tree.allowed}/out/*.yaml")


def test_an_escaping_glob_stored_before_the_fix_is_refused_at_refresh(tree):
    for target in escapes(tree)[:2]:
        location = Location.objects.create(type="file", target=target)  # as if registered by an older version
        result = refresh_location(location.pk, force=True)
        assert result.status == Location.Status.ERROR
        assert "'..'" in result.message
    assert names() == set()
    assert_nothing_leaked()


# -- symbolic links met while expanding a glob ---------------------------------------------------------------


def test_a_symlinked_directory_out_of_the_tree_is_not_followed(api_client, user, tree):
    os.symlink(tree.elsewhere, tree.allowed / "dir" / "escape")
    grant("platform-admin", user=user)
    target = f"{tree.allowed}/dir/**/catalog-info.yaml"
    answer = api_client.post("/api/catalog/locations", {"type": "file", "target": target}, format="json")
    assert answer.status_code == 201, answer.content  # the link cannot be known to matter until expanded
    location = Location.objects.get(target=target)
    result = refresh_location(location.pk, force=True)
    assert names() == {"team-a"}
    error = ProcessingError.objects.get(location=location, rule="path-not-allowed")
    assert error.file == f"file:{tree.allowed}/dir/escape"
    assert "symbolic link that leads outside CATALOG_ALLOWED_PATHS; not followed" in error.message
    assert str(tree.elsewhere) not in error.message  # where the link points is not told
    assert result.status == Location.Status.OK  # the root glob itself was fine
    assert_nothing_leaked()


def test_a_registered_glob_that_later_matches_links_out_reads_none_of_them(tree):
    location = register_location(f"{tree.allowed}/*/*/catalog-info.yaml", type="file")
    assert refresh_location(location.pk).summary.added == 1
    os.symlink(tree.elsewhere, tree.allowed / "dir" / "team-b")  # a directory link, matched by '*'
    (tree.allowed / "dir" / "team-c").mkdir()
    os.symlink("/etc/passwd", tree.allowed / "dir" / "team-c" / "catalog-info.yaml")  # a file link
    os.symlink(tree.allowed / "dir", tree.allowed / "loop")  # a link inside the tree is followed
    result = refresh_location(location.pk, force=True)
    assert names() == {"team-a"}
    refused = ProcessingError.objects.filter(location=location, rule="path-not-allowed")
    assert set(refused.values_list("file", flat=True)) == {
        f"file:{tree.allowed}/dir/team-b",
        f"file:{tree.allowed}/dir/team-c/catalog-info.yaml",
    }
    assert result.summary.errors >= 2
    assert_nothing_leaked()


def test_glob_expansion_follows_links_inside_the_tree_once(tree):
    os.symlink(tree.allowed / "dir", tree.allowed / "dir" / "team-a" / "up")  # a loop, inside the tree
    with SourceReader() as reader:
        expansion = reader.expand(parse_target("file", f"{tree.allowed}/**/catalog-info.yaml"))
    assert [s.path for s in expansion.sources] == [f"{tree.allowed}/dir/team-a/catalog-info.yaml"]
    assert expansion.refused == []


def test_a_file_swapped_for_a_link_after_registration_is_not_read(tree):
    path = tree.allowed / "catalog-info.yaml"
    path.write_text(group("team-b"))
    location = register_location(str(path), type="file")
    refresh_location(location.pk)
    path.unlink()
    os.symlink("/etc/passwd", path)
    result = refresh_location(location.pk, force=True)
    assert result.status == Location.Status.ERROR
    assert "not allowed" in result.message
    assert names() == {"team-b"}  # the last good version is kept
    assert_nothing_leaked()


def test_the_reader_checks_every_local_read(tree):
    os.symlink(tree.elsewhere / "secret.txt", tree.allowed / "secret.txt")
    with SourceReader() as reader:
        for path in (f"{tree.allowed}/secret.txt", "/etc/passwd", f"{tree.allowed}/../elsewhere/secret.txt"):
            with pytest.raises(ReadError, match="not allowed") as caught:
                reader.read(FileSource(path))
            assert caught.value.rule == "path-not-allowed"
        assert reader.read(FileSource(f"{tree.allowed}/dir/team-a/catalog-info.yaml")).startswith(b"apiVersion")


# -- placeholders ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "target"),
    [
        ("$text", f"../../{DEEP_UP}etc/passwd"),
        ("$text", "/etc/passwd"),
        ("$text", "file:///etc/passwd"),
        ("$yaml", "/etc/passwd"),
        ("$json", "../elsewhere/secret.json"),
        ("$json", "sub/../../elsewhere/secret.json"),
        ("$text", "./*/../../elsewhere/secret.txt"),
        ("$text", "./link.txt"),
    ],
)
def test_placeholders_never_read_outside_the_allowed_paths(tree, key, target):
    os.symlink(tree.elsewhere / "secret.txt", tree.allowed / "link.txt")
    (tree.allowed / "catalog-info.yaml").write_text(api("leaky", key, target))
    location = register_location(str(tree.allowed / "catalog-info.yaml"), type="file")
    refresh_location(location.pk)
    error = ProcessingError.objects.get(location=location)
    assert (error.file, error.document, error.field, error.rule) == (location.ref, 0, "spec.definition", "placeholder")
    assert "not allowed" in error.message or "'..'" in error.message, error.message
    assert_nothing_leaked()


def test_a_relative_placeholder_is_read_next_to_its_descriptor(tree):
    (tree.allowed / "sub").mkdir()
    (tree.allowed / "sub" / "openapi.yaml").write_text("openapi: 3.0.0\n")
    (tree.allowed / "catalog-info.yaml").write_text(api("near", "$text", "sub/openapi.yaml"))
    refresh_location(register_location(str(tree.allowed / "catalog-info.yaml"), type="file").pk)
    assert Entity.objects.get(name="near").body["spec"]["definition"] == "openapi: 3.0.0\n"


# -- nested Location targets -------------------------------------------------------------------------------


def test_nested_location_targets_out_of_the_allowed_paths_are_errors_on_the_location(tree):
    os.symlink(tree.elsewhere / "other.yaml", tree.allowed / "link.yaml")
    targets = ["/etc/passwd", "file:///etc/passwd", "./*/../../elsewhere/*.yaml", "./link.yaml", f"{DEEP_UP}etc/passwd",
               f"file://{tree.elsewhere}/other.yaml", "dir/team-a/catalog-info.yaml"]  # fmt: skip
    (tree.allowed / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\n"
        f"spec:\n  target: ../elsewhere/other.yaml\n  targets: {json.dumps(targets)}\n"
    )
    location = register_location(str(tree.allowed / "catalog-info.yaml"), type="file")
    refresh_location(location.pk)
    assert names() == {"root", "team-a"}
    errors = ProcessingError.objects.filter(location=location).order_by("field")
    assert [(e.entity_ref, e.file, e.document, e.field, e.rule) for e in errors] == [
        ("location:default/root", location.ref, 0, field, "bad-target")
        for field in ["spec.target", *(f"spec.targets[{i}]" for i in range(6))]
    ]
    assert all("not allowed" in e.message or "'..'" in e.message for e in errors), [e.message for e in errors]
    assert_nothing_leaked()


# -- git ---------------------------------------------------------------------------------------------------


def test_git_paths_that_leave_the_repository_are_refused_at_registration(api_client, user, tree):
    grant("platform-admin", user=user)
    repo = tree.allowed / "repo.git"
    make_repo(repo, {"catalog-info.yaml": group("in-git")})
    for target in [
        git_target(repo, path="../x"),
        git_target(repo, path=f"{DEEP_UP}etc/passwd"),
        git_target(repo, path="*/../catalog-info.yaml"),
        git_target(repo, path="docs/**/../../../x.yaml"),
        "https://github.com/org/repo/blob/main/../../etc/passwd",
        "https://github.com/org/repo/blob/main/%2e%2e/%2e%2e/etc/passwd",
        "https://github.com/org/repo/tree/main/*/../../x",
        "https://gitlab.com/org/repo/-/blob/main/..%2F..%2Fx",
    ]:
        answer = api_client.post("/api/catalog/locations", {"type": "url", "target": target}, format="json")
        assert answer.status_code == 400, (target, answer.content)
        assert "leaves the repository" in answer.json()["error"]["message"] or "'..'" in answer.json()["error"][
            "message"]  # fmt: skip
    assert not Location.objects.exists()


def test_symlinks_committed_in_a_git_repository_are_not_followed(tree, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\n"
        "spec: {targets: [./passwd.yaml, ./etc/passwd, ./api.yaml]}\n"
    )
    (work / "api.yaml").write_text(api("linked", "$text", "./passwd.yaml"))
    os.symlink("/etc/passwd", work / "passwd.yaml")
    os.symlink("/etc", work / "etc")
    repo = tree.allowed / "linked.git"
    create_repository_from_directory(work, repo)
    location = register_location(git_target(repo))
    refresh_location(location.pk)
    assert names() == {"root"}
    errors = {(e.file.rsplit("#path=", 1)[-1], e.field): e.message for e in ProcessingError.objects.all()}
    assert "symbolic link; links are not followed" in errors[("passwd.yaml", "")]
    assert "does not exist" in errors[("etc/passwd", "")]
    assert "symbolic link; links are not followed" in errors[("api.yaml", "spec.definition")]
    for path in ("passwd.yaml", "etc/*", "*"):  # registered directly, and globs over or below the links
        direct = register_location(git_target(repo, path=path))
        refresh_location(direct.pk)
    assert names() == {"root"}
    assert_nothing_leaked()
