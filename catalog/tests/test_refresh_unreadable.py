"""A file that cannot be read as YAML changes nothing: no adds, no changes, no orphans, a located error.

Issue 12, defect 2: a syntax error in document 2,501 of 5,000 used to orphan documents 2,501-5,000 (and
delete them after the grace period). Also: an errored location reported ``changed`` on every refresh.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.ingestion.refresh import delete_expired_orphans, refresh_location, register_location
from catalog.models import Entity, Location, ProcessingError

pytestmark = pytest.mark.django_db

GROUP = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{name: team-{i}, description: {description}}}
spec: {{type: team, children: []}}
"""
BROKEN = "spec: {type: team, children: [}\n"  # the flow sequence is closed by a brace: a syntax error
LOCATION = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {{name: {name}}}
spec:
  targets: [{targets}]
"""


def groups(count: int, *, start: int = 0, description: str = "First", broken: int | None = None) -> str:
    docs = [GROUP.format(i=i, description=description) for i in range(start, start + count)]
    if broken is not None:
        docs[broken - start] = docs[broken - start].replace("spec: {type: team, children: []}\n", BROKEN)
    return "---\n".join(docs)


def write(path: Path, text: str | bytes) -> None:
    """Write and move the modification time on, so the refresh sees a change even within one clock tick."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def line_of_broken(text: str) -> int:
    return text[: text.index(BROKEN)].count("\n") + 1


def where_broken(text: str) -> str:
    """Where the parser stops, 1-based: the brace that closes the flow sequence."""
    return f"line {line_of_broken(text)}, column {BROKEN.index('[}') + 2}"


def entities(location) -> list[Entity]:
    return list(Entity.objects.filter(location=location).order_by("name"))


def states(location) -> set[tuple]:
    """(description, orphaned, error count) of the location's entities."""
    rows = Entity.objects.filter(location=location).values_list("description", "orphaned_at", "error_count")
    return {(description, orphaned_at is not None, errors) for description, orphaned_at, errors in rows}


def after_grace_period():
    return timezone.now() + timedelta(days=django_settings.CATALOG_ORPHAN_GRACE_DAYS + 1)


def check_file_kept(location, path: Path, text: str, *, count: int, broken: int) -> None:
    """Every entity is there, unchanged and not orphaned, carrying the located syntax error."""
    assert Entity.objects.filter(location=location).count() == count
    assert states(location) == {("First", False, 1)}
    errors = ProcessingError.objects.filter(location=location, entity__isnull=False)
    assert errors.count() == count
    assert set(errors.values_list("rule", "document", "file")) == {("yaml-syntax", broken, f"file:{path}")}
    message = errors.first().message
    assert f"YAML syntax error at {where_broken(text)}: did not find expected node content" in message
    assert "nothing from this file is added, changed or removed" in message
    on_location = ProcessingError.objects.get(location=location, entity__isnull=True)
    assert (on_location.rule, on_location.document, on_location.message) == ("yaml-syntax", broken, message)
    assert delete_expired_orphans(now=after_grace_period()) == 0
    assert Entity.objects.filter(location=location).count() == count


@pytest.mark.parametrize("count", [300, 5000])
def test_a_syntax_error_late_in_a_file_keeps_every_entity_it_produced(allow_tmp, count):
    path = allow_tmp / "groups.yaml"
    write(path, groups(count))
    location = register_location(str(path), type="file")
    assert refresh_location(location.pk).summary.added == count

    broken = count // 2  # 0-based: document 2,501 of 5,000
    text = groups(count, description="Second", broken=broken)  # earlier documents changed too
    write(path, text)
    result = refresh_location(location.pk)
    assert (result.summary.added, result.summary.updated, result.summary.orphaned) == (0, 0, 0)
    assert result.changed  # the error is new
    assert result.status == Location.Status.ERROR and f"line {line_of_broken(text)}" in result.message
    check_file_kept(location, path, text, count=count, broken=broken)

    again = refresh_location(location.pk)  # the same error: nothing changes, nothing is rewritten
    assert not again.changed
    check_file_kept(location, path, text, count=count, broken=broken)

    final = "Second" if count < 1000 else "First"  # 5,000 body updates would only make this test slow
    write(path, groups(count, description=final))  # fixed: the changes apply and the errors go
    fixed = refresh_location(location.pk)
    assert (fixed.status, fixed.summary.orphaned) == (Location.Status.OK, 0)
    assert fixed.summary.updated == (count if final == "Second" else 0)
    assert not ProcessingError.objects.filter(location=location).exists()
    assert states(location) == {(final, False, 0)}


def test_first_ingestion_of_a_half_readable_file_adds_nothing(allow_tmp):
    path = allow_tmp / "groups.yaml"
    text = groups(200, broken=150)
    write(path, text)
    location = register_location(str(path), type="file")
    result = refresh_location(location.pk)
    assert result.summary.added == 0
    assert not Entity.objects.filter(location=location).exists()
    assert result.status == Location.Status.ERROR
    error = ProcessingError.objects.get(location=location)
    assert (error.rule, error.document, error.file) == ("yaml-syntax", 150, f"file:{path}")
    assert where_broken(text) in error.message
    assert error.where == f"file:{path} › document 151"

    write(path, groups(200))
    assert refresh_location(location.pk).summary.added == 200


@pytest.mark.parametrize("helper_min_bytes", [0, 1], ids=["one-process", "parse-helper"])
def test_an_unreadable_file_in_a_locations_targets_keeps_what_it_and_its_targets_produced(
    allow_tmp, settings, helper_min_bytes
):
    """root -> a.yaml, b.yaml; b.yaml holds a Location -> c.yaml. b.yaml breaks: a.yaml refreshes as usual,
    b.yaml's and c.yaml's entities keep their last good version with an error, none is orphaned."""
    settings.CATALOG_PARSE_HELPER_MIN_BYTES = helper_min_bytes
    root = allow_tmp / "catalog-info.yaml"
    a, b, c = (allow_tmp / name for name in ("a.yaml", "b.yaml", "c.yaml"))
    nested = LOCATION.format(name="nested", targets="./c.yaml")
    write(root, LOCATION.format(name="root", targets="./a.yaml, ./b.yaml"))
    write(a, groups(20))
    write(b, nested + "---\n" + groups(20, start=100))
    write(c, groups(20, start=200))
    location = register_location(str(root), type="file")
    assert refresh_location(location.pk).summary.added == 62  # two Locations and 60 groups

    text = nested + "---\n" + groups(20, start=100, description="Second", broken=110)
    write(b, text)
    write(c, groups(20, start=200, description="Second"))  # not read: its includer is unreadable
    write(a, groups(21, description="Second"))
    result = refresh_location(location.pk)
    assert (result.helper_rss_kb > 0) == bool(helper_min_bytes)  # b.yaml was parsed by the helper
    assert result.status == Location.Status.OK  # the root file read fine
    assert (result.summary.added, result.summary.updated, result.summary.orphaned) == (1, 20, 0)
    assert Entity.objects.filter(location=location, orphaned_at__isnull=False).count() == 0
    assert Entity.objects.filter(location=location).count() == 63
    from_b = Entity.objects.filter(source_file=f"file:{b}")
    from_c = Entity.objects.filter(source_file=f"file:{c}")
    assert from_b.count() == 21 and from_c.count() == 20
    assert {e.description for e in [*from_b, *from_c] if e.kind == "Group"} == {"First"}
    assert set(ProcessingError.objects.filter(entity__in=from_b).values_list("rule", "document")) == {
        ("yaml-syntax", 11)
    }
    assert set(ProcessingError.objects.filter(entity__in=from_c).values_list("rule", "file")) == {
        ("not-read", f"file:{c}")
    }
    assert all(e.error_count == 1 for e in [*from_b, *from_c])
    from_a = Entity.objects.filter(source_file=f"file:{a}")
    assert {e.description for e in from_a} == {"Second"} and not ProcessingError.objects.filter(entity__in=from_a)
    assert not refresh_location(location.pk).changed

    write(b, b"\xff\xfe not UTF-8")  # a file that cannot be read at all keeps its targets' entities too
    result = refresh_location(location.pk)
    assert (result.summary.orphaned, Entity.objects.filter(location=location).count()) == (0, 63)
    assert set(ProcessingError.objects.filter(entity__in=from_b).values_list("rule", flat=True)) == {"not-utf8"}
    assert set(ProcessingError.objects.filter(entity__in=from_c).values_list("rule", flat=True)) == {"not-read"}
    assert delete_expired_orphans(now=after_grace_period()) == 0

    write(b, nested + "---\n" + groups(19, start=100))  # readable again: c.yaml is read, team-118 is gone
    result = refresh_location(location.pk)
    assert (result.summary.orphaned, result.summary.updated) == (1, 20)
    assert not ProcessingError.objects.filter(location=location, entity__orphaned_at__isnull=True).exists()
    assert not ProcessingError.objects.filter(location=location, entity__isnull=True).exists()
    assert {e.description for e in Entity.objects.filter(source_file=f"file:{c}")} == {"Second"}


def test_a_duplicate_key_makes_the_whole_file_unreadable(allow_tmp):
    """A document that cannot be read has no ref: rather than orphan whatever it was, the file changes nothing."""
    path = allow_tmp / "groups.yaml"
    write(path, groups(5))
    location = register_location(str(path), type="file")
    refresh_location(location.pk)
    write(path, groups(5, description="Second").replace("kind: Group\n", "kind: Group\nkind: Group\n", 1))
    result = refresh_location(location.pk)
    assert (result.summary.updated, result.summary.orphaned) == (0, 0)
    assert {(e.description, e.error_count) for e in entities(location)} == {("First", 1)}
    assert set(ProcessingError.objects.filter(location=location).values_list("rule", flat=True)) == {"duplicate-key"}


def test_a_document_that_parses_but_is_invalid_keeps_its_last_good_version_and_the_others_update(allow_tmp):
    path = allow_tmp / "groups.yaml"
    write(path, groups(3))
    location = register_location(str(path), type="file")
    refresh_location(location.pk)
    text = groups(3, description="Second").replace("name: team-1,", "name: team-1, tags: [Not Valid],")
    write(path, text)
    result = refresh_location(location.pk)
    assert (result.summary.updated, result.summary.orphaned, result.status) == (3, 0, Location.Status.OK)
    by_name = {e.name: e for e in entities(location)}
    assert (by_name["team-1"].description, by_name["team-1"].error_count) == ("First", 1)
    assert [by_name[n].description for n in ("team-0", "team-2")] == ["Second", "Second"]
    error = ProcessingError.objects.get(entity=by_name["team-1"])
    assert (error.document, error.field) == (1, "metadata.tags[0]")

    ids = set(ProcessingError.objects.values_list("id", flat=True))
    again = refresh_location(location.pk, force=True)  # the same invalid document: no change, no rewrite
    assert not again.changed
    assert (again.summary.updated, again.summary.unchanged, again.summary.errors) == (0, 3, 1)
    assert set(ProcessingError.objects.values_list("id", flat=True)) == ids


def test_an_errored_location_reports_no_change_when_nothing_changed(allow_tmp):
    path = allow_tmp / "groups.yaml"
    write(path, groups(50))
    location = register_location(str(path), type="file")
    refresh_location(location.pk)
    write(path, groups(50, broken=0))  # unreadable from its first document on
    assert refresh_location(location.pk).changed
    ids = set(ProcessingError.objects.values_list("id", flat=True))
    stamps = set(Entity.objects.values_list("id", "updated_at", "error_count"))
    with CaptureQueriesContext(connection) as queries:
        result = refresh_location(location.pk)
    writes = [q["sql"].split()[:3] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == [["UPDATE", '"catalog_location"', "SET"]]  # when it was checked; no entity or error row
    assert not result.changed
    assert result.summary.errors == 1
    assert set(ProcessingError.objects.values_list("id", flat=True)) == ids
    assert set(Entity.objects.values_list("id", "updated_at", "error_count")) == stamps


def test_a_refused_target_reports_its_error_once(allow_tmp, settings):
    path = allow_tmp / "groups.yaml"
    write(path, groups(1))
    location = register_location(str(path), type="file")
    settings.CATALOG_ALLOWED_PATHS = []  # the target is refused from now on
    first = refresh_location(location.pk)
    ids = set(ProcessingError.objects.filter(location=location).values_list("id", flat=True))
    second = refresh_location(location.pk)
    assert first.status == second.status == Location.Status.ERROR and not second.changed
    assert set(ProcessingError.objects.filter(location=location).values_list("id", flat=True)) == ids


def test_a_repository_that_went_away_orphans_nothing_it_produced_through_its_locations(allow_tmp):
    """The root file cannot be read: the files its Location entity included keep their entities too."""
    import shutil

    from catalog.tests.test_refresh import repo_files
    from portal.testing.gitrepos import git_target, make_repo

    bare = allow_tmp / "billing.git"
    make_repo(bare, repo_files())
    location = register_location(git_target(bare))
    assert refresh_location(location.pk).summary.added == 4
    shutil.rmtree(bare)
    result = refresh_location(location.pk)
    assert result.status == Location.Status.ERROR and result.summary.orphaned == 0
    assert states(location) == {(description, False, 1) for description, _, _ in states(location)}
    rules = set(ProcessingError.objects.filter(entity__isnull=False).values_list("entity__name", "rule"))
    assert ("billing", "not-read") in rules and ("root", "read-failed") in rules
    assert delete_expired_orphans(now=after_grace_period()) == 0
