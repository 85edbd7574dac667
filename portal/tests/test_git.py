"""The hardened git wrapper against real repositories."""

import pytest

from portal.git import GitError, GitRepo, clean_repo_path, sanitize_url, validate_ref
from portal.testing.gitrepos import make_repo


def test_fetch_and_read(tmp_path):
    bare = tmp_path / "r.git"
    sha = make_repo(bare, {"a/b.yaml": "x: 1\n", "top.txt": "hi"})
    with GitRepo(bare.as_uri(), tmp_path / "cache") as repo:
        assert repo.remote_head("main") == sha
        assert repo.fetch("main") == sha
        assert repo.read_file(sha, "a/b.yaml") == b"x: 1\n"
        assert {e.path for e in repo.walk(sha) if e.is_file} == {"a/b.yaml", "top.txt"}
        with pytest.raises(GitError, match="does not exist"):
            repo.read_file(sha, "missing.yaml")


def test_new_commit_only_when_content_changes(tmp_path):
    bare = tmp_path / "r.git"
    first = make_repo(bare, {"f": "1"})
    assert make_repo(bare, {"f": "1"}) == first
    assert make_repo(bare, {"f": "2"}) != first


@pytest.mark.parametrize("ref", ["--upload-pack=evil", "a..b", "", "x y", "-x", "a//b", "ok.lock"])
def test_refs_that_could_inject_options_are_refused(ref):
    with pytest.raises(GitError):
        validate_ref(ref)


def test_unreachable_remote_is_a_clean_error(tmp_path):
    with GitRepo((tmp_path / "nope.git").as_uri(), tmp_path / "cache") as repo, pytest.raises(GitError):
        repo.fetch("main")


def test_ext_protocol_and_traversal_refused(tmp_path):
    with pytest.raises(GitError):
        GitRepo("ext::sh -c touch% /tmp/pwned", tmp_path)
    with pytest.raises(GitError):
        clean_repo_path("../../etc/passwd")


def test_credentials_are_removed_from_urls():
    assert sanitize_url("https://user:secret@github.com/o/r.git") == "https://github.com/o/r.git"
