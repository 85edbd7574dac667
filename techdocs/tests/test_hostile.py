"""Hostile repositories: each is refused with a clear error and nothing of the repository runs."""

from __future__ import annotations

import os

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from portal.testing.gitrepos import git_target, make_repo
from techdocs import builder
from techdocs.models import DocSite
from techdocs.tests.test_build import MKDOCS, docs_files, write

pytestmark = pytest.mark.django_db

REF = "component:default/ledger"


@pytest.fixture
def build_from(allow_tmp, docs_storage):
    """Commit ``files`` to a git repository, register it, build; returns (outcome, site)."""

    def run(files: dict, *, via: str = "git"):
        if via == "git":
            bare = allow_tmp / "ledger.git"
            make_repo(bare, files)
            location = register_location(git_target(bare), type="url")
        else:
            write(allow_tmp / "repo", files)
            location = register_location(str(allow_tmp / "repo" / "catalog-info.yaml"), type="file")
        refresh_location(location.pk)
        outcome = builder.build(REF)
        return outcome, DocSite.objects.get(entity_ref=REF)

    return run


@pytest.fixture
def canary(tmp_path):
    """A file a hostile build would create; it must never exist."""
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "the repository's code ran"


def test_hooks_are_refused(build_from, canary, allow_tmp):
    hook = f"import pathlib\npathlib.Path({str(canary)!r}).write_text('x')\n"
    outcome, site = build_from({**docs_files(), "mkdocs.yml": MKDOCS + "hooks:\n  - hooks.py\n", "hooks.py": hook})
    assert outcome.result == "refused"
    assert site.status == DocSite.Status.REFUSED and "'hooks' is not allowed" in site.error
    assert not site.published


def test_plugin_outside_allowlist_is_refused(build_from):
    outcome, site = build_from({**docs_files(), "mkdocs.yml": MKDOCS + "  - mkdocstrings\n"})
    assert outcome.result == "refused" and "plugin 'mkdocstrings' is not allowed" in site.error


@pytest.mark.parametrize("extension", ["evil_module:Extension", "markdown_include.include"])
def test_markdown_extension_outside_allowlist_is_refused(build_from, extension):
    config = MKDOCS + f"markdown_extensions:\n  - {extension}\n"
    outcome, site = build_from({**docs_files(), "mkdocs.yml": config})
    assert outcome.result == "refused" and "markdown extension" in site.error and extension in site.error


def test_snippets_reading_outside_is_refused(build_from):
    config = MKDOCS + "markdown_extensions:\n  - pymdownx.snippets:\n      base_path: [/etc]\n"
    outcome, site = build_from({**docs_files(), "mkdocs.yml": config})
    assert outcome.result == "refused" and "base_path" in site.error


@pytest.mark.parametrize(
    "tag", ["!!python/object/apply:os.system ['touch /tmp/x']", "!!python/name:os.system", "!!python/module:os"]
)
def test_python_yaml_tags_are_refused(build_from, tag):
    outcome, site = build_from({**docs_files(), "mkdocs.yml": MKDOCS + f"extra:\n  x: {tag}\n"})
    assert outcome.result == "refused" and "is not allowed" in site.error and "line 8" in site.error


def test_allowed_python_tag_builds(build_from):
    config = MKDOCS + ("markdown_extensions:\n  - pymdownx.emoji:\n"
                       "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n")  # fmt: skip
    outcome, _ = build_from({**docs_files(), "mkdocs.yml": config})
    assert outcome.result == "built", outcome.message


@pytest.mark.parametrize(("key", "value"), [("docs_dir", "../../etc"), ("docs_dir", "/etc"), ("site_dir", "../out"),
                                       ("docs_dir", ".")])  # fmt: skip
def test_dirs_escaping_the_repository_are_refused(build_from, key, value):
    outcome, site = build_from({**docs_files(), "mkdocs.yml": MKDOCS + f"{key}: {value}\n"})
    assert outcome.result == "refused" and key in site.error


def test_inherit_is_refused(build_from):
    outcome, site = build_from({**docs_files(), "mkdocs.yml": "INHERIT: /etc/mkdocs.yml\n" + MKDOCS})
    assert outcome.result == "refused" and "INHERIT" in site.error


def test_symlink_out_of_the_repository_is_refused_git(build_from, allow_tmp):
    files = docs_files()
    outcome, site = build_from(files | {"docs/passwd.md": b""}, via="git")
    assert outcome.result == "built"
    # A committed symbolic link to /etc/passwd inside docs/.
    import git as gitpython

    work = allow_tmp / "work"
    repo = gitpython.Repo.clone_from(str(allow_tmp / "ledger.git"), work)
    (work / "docs" / "passwd.md").unlink()
    os.symlink("/etc/passwd", work / "docs" / "passwd.md")
    repo.git.add("--all")
    repo.git.commit("-m", "link", env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                                       "GIT_COMMITTER_EMAIL": "t@t"})  # fmt: skip
    repo.git.push("origin", "HEAD:main")
    outcome = builder.build(REF)
    site = DocSite.objects.get()
    assert outcome.result == "refused" and "symbolic link out of the docs directory" in site.error
    assert "root:" not in site.log


def test_symlink_out_of_the_repository_is_refused_file(build_from, allow_tmp):
    files = docs_files()
    write(allow_tmp / "repo", files)
    os.symlink("/etc/passwd", allow_tmp / "repo" / "docs" / "passwd.md")
    outcome, site = build_from({}, via="file")
    assert outcome.result == "refused" and "symbolic link out of the docs directory" in site.error


def test_symlinked_folder_out_of_the_repository_is_refused(build_from, allow_tmp):
    write(allow_tmp / "repo", docs_files())
    os.symlink("/etc", allow_tmp / "repo" / "docs" / "etc")
    outcome, site = build_from({}, via="file")
    assert outcome.result == "refused" and "docs/etc" in site.error


def test_docs_tree_over_the_size_limit_is_refused(build_from, settings):
    settings.TECHDOCS_MAX_SOURCE_BYTES = 10_000
    outcome, site = build_from({**docs_files(), "docs/big.md": "x" * 20_000})
    assert outcome.result == "refused" and "TECHDOCS_MAX_SOURCE_BYTES" in site.error


def test_too_many_files_is_refused(build_from, settings):
    settings.TECHDOCS_MAX_FILES = 2
    outcome, site = build_from(docs_files())
    assert outcome.result == "refused" and "TECHDOCS_MAX_FILES" in site.error


def test_yaml_alias_bomb_is_refused(build_from):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    outcome, site = build_from({**docs_files(), "mkdocs.yml": MKDOCS + "extra:\n" + "".join(
        "  " + line + "\n" for line in bomb.splitlines())})  # fmt: skip
    assert outcome.result == "refused" and "YAML nodes" in site.error


def test_build_environment_has_no_secrets(build_from, monkeypatch):
    """The build process gets none of the portal's environment: ``!ENV`` in mkdocs.yml reads nothing."""
    monkeypatch.setenv("CALLBOARD_CANARY_SECRET", "s3cr3t")
    config = MKDOCS + "site_description: !ENV [CALLBOARD_CANARY_SECRET, absent]\n"
    outcome, site = build_from({**docs_files(), "mkdocs.yml": config})
    assert outcome.result == "built", outcome.message
    assert site.site_description == "absent"
