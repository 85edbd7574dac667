"""`manage.py catalog register|refresh|validate` and `manage.py demo load`, as a user runs them."""

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Entity, Location, ProcessingError
from portal.testing.gitrepos import git_target, make_repo

GOOD = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: ops}\nspec: {type: team, children: []}\n"
BAD = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: 'no good!'}\nspec: {type: service}\n"


def run(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("catalog", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_register_and_refresh(allow_tmp):
    bare = allow_tmp / "r.git"
    make_repo(bare, {"catalog-info.yaml": GOOD})
    code, out, _ = run("register", git_target(bare))
    assert code == 0
    assert "1 added" in out
    code, out, _ = run("refresh", "--all")
    assert code == 0 and "no change" in out
    code, out, _ = run("refresh", git_target(bare), "--force")
    assert code == 0 and "1 unchanged" in out


@pytest.mark.django_db
def test_register_unreadable_target_exits_1(allow_tmp):
    code, _, err = run("register", git_target(allow_tmp / "missing.git"))
    assert code == 1
    assert "error" in err


@pytest.mark.django_db
def test_register_refused_host_is_an_error(settings):
    from django.core.management.base import CommandError

    settings.CATALOG_ALLOWED_HOSTS = ["github.com"]
    with pytest.raises(CommandError, match="not allowed"):
        call_command("catalog", "register", "https://intranet.local/o/r/blob/main/c.yaml")


def test_validate_needs_no_database(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD + "---\n" + BAD)
    assert run("validate", str(good))[0] == 0
    code, _, err = run("validate", str(bad))
    assert code == 1
    assert "bad.yaml" in err and "metadata.name" in err and "spec.lifecycle" in err


@pytest.mark.django_db
def test_demo_organisation_loads_without_errors(settings, tmp_path):
    settings.LOCAL_REPOS_DIR = tmp_path / "repos"
    settings.GIT_CACHE_DIR = tmp_path / "cache"
    settings.CATALOG_ALLOWED_PATHS = [str(tmp_path)]
    out = StringIO()
    call_command("demo", "load", stdout=out)
    assert "Loaded the demo organisation" in out.getvalue()
    errors = list(ProcessingError.objects.all()[:5])
    assert errors == [], [str(e) for e in errors]
    counts = {kind: Entity.objects.filter(kind=kind).count() for kind in ("Group", "User", "Component", "API")}
    assert counts["Group"] >= 6 and counts["User"] >= 20 and counts["Component"] >= 25 and counts["API"] >= 10
    assert Location.objects.filter(created_by="demo", status="ok").count() == Location.objects.count()
    assert not Entity.objects.filter(orphaned_at__isnull=False).exists()
    again = StringIO()
    call_command("demo", "load", stdout=again)
    assert "already loaded" in again.getvalue()


@pytest.mark.django_db
def test_register_and_validate_name_the_entity_and_number_documents_alike(allow_tmp):
    path = allow_tmp / "two.yaml"
    path.write_text(GOOD + "---\n" + BAD.replace("'no good!'", "ledger-api"))
    _, _, checked = run("validate", str(path))
    _, _, registered = run("register", str(path))
    where = "component:default/ledger-api in {} › document 2 › spec.lifecycle: "
    assert where.format(path) in checked
    assert where.format(f"file:{path}") in registered  # the location's ref for the file
    assert "[doc" not in checked + registered and "document 1 ›" not in checked + registered
    error = ProcessingError.objects.get(field="spec.lifecycle")
    assert str(error).startswith(where.format(f"file:{path}"))  # the admin and the pages show ``where`` too
