"""The hardened git wrapper against real repositories."""

import pytest

from portal.git import (
    GitError,
    GitRepo,
    PathInfo,
    PushRejected,
    clean_repo_path,
    push_directory,
    sanitize_url,
    validate_ref,
)
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


def test_path_info_and_bounded_reads(tmp_path):
    """What scorecard fact collectors rely on: a path's kind and size without reading it, a size limit checked
    before reading, links reported and never followed, and the commit's time."""
    import os
    import time

    from portal.git import create_repository_from_directory

    source = tmp_path / "src"
    source.mkdir()
    (source / "big.txt").write_text("x" * 5000)
    os.symlink("/etc/passwd", source / "link")
    sha = create_repository_from_directory(source, tmp_path / "r.git")
    with GitRepo((tmp_path / "r.git").as_uri(), tmp_path / "cache") as repo:
        repo.fetch("main")
        assert repo.path_info(sha, "big.txt") == PathInfo("file", 5000)
        assert repo.path_info(sha, "link").kind == "link"
        assert repo.path_info(sha, "nothing").kind == "missing"
        with pytest.raises(GitError, match=r"big\.txt is 5000 bytes; the limit is 100"):
            repo.read_file(sha, "big.txt", max_bytes=100)
        assert len(repo.read_file(sha, "big.txt", max_bytes=5000)) == 5000
        with pytest.raises(GitError, match="symbolic link"):
            repo.read_file(sha, "link")
        with pytest.raises(GitError, match="leaves the repository"):
            repo.path_info(sha, "../outside")
        assert abs(repo.committed_at(sha) - time.time()) < 300


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


FETCH = "\n".join([
    "import sys",
    "from portal.git import GitRepo",
    "with GitRepo(sys.argv[1], sys.argv[2]) as repo: print(repo.fetch('main'))",
])  # fmt: skip


def test_concurrent_fetches_into_one_mirror_wait_for_each_other(tmp_path):
    """Two workers refreshing from one repository share its mirror: git's own locks made the second init or
    fetch fail ("could not lock config file", "Unable to create … shallow.lock"); now it waits for the first."""
    import fcntl
    import subprocess
    import sys
    import threading
    from pathlib import Path

    sha = make_repo(tmp_path / "remote.git", {"a.txt": "x"})
    url = (tmp_path / "remote.git").as_uri()
    with GitRepo(url, tmp_path / "cache") as repo:
        repo.fetch("main")
        done = threading.Event()
        with open(repo._lock_path, "a+") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # another process's fetch in progress
            thread = threading.Thread(target=lambda: (GitRepo(url, tmp_path / "cache").__enter__().fetch("main"),
                                                      done.set()))  # fmt: skip
            thread.start()
            assert not done.wait(0.5)  # it waits for the lock instead of failing on shallow.lock
            fcntl.flock(held, fcntl.LOCK_UN)
        thread.join(60)
        assert done.is_set()
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", FETCH, url, str(tmp_path / "cache2")]
    children = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(8)]  # fmt: skip
    results = [child.communicate(timeout=120) for child in children]
    assert [out.strip() for out, _ in results] == [sha] * 8, [err for _, err in results]


def test_push_directory_never_overwrites_a_branch_with_history(tmp_path):
    bare = tmp_path / "r.git"
    first = make_repo(bare, {"kept.txt": "old\n"})
    source = tmp_path / "src"
    source.mkdir()
    (source / "new.txt").write_text("new\n")
    with pytest.raises(PushRejected, match=r"\[rejected\]"):
        push_directory(source, bare.as_uri(), branch="main")
    pushed = push_directory(source, bare.as_uri(), branch="other")
    with GitRepo(bare.as_uri(), tmp_path / "cache") as repo:
        assert repo.fetch("main") == first and repo.fetch("other") == pushed
