"""Test helpers: templates registered in the catalog from folders, people allowed to run them."""

from __future__ import annotations

import shutil
from pathlib import Path

from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import Entity
from portal.git import create_repository_from_directory
from portal.testing.gitrepos import git_target

REPO = Path(__file__).resolve().parents[2]
DEMO_TEMPLATES = REPO / "demo" / "repos" / "templates"


def copy_template(source: Path, dest: Path, *, publish_to_git: bool = True) -> Path:
    """Copy a template folder; ``publish:github`` steps are pointed at ``publish:git`` (same inputs)."""
    shutil.copytree(source, dest, symlinks=True)
    if publish_to_git:
        for path in dest.rglob("template.yaml"):
            path.write_text(path.read_text().replace("action: publish:github", "action: publish:git"))
    return dest


def register_file_template(path: Path) -> Entity:
    location = register_location(str(path), type="file")
    result = refresh_location(location.pk, force=True)
    assert result.status == "ok", result.message
    return Entity.objects.get(location=location, kind__iexact="template")


def register_git_templates(folder: Path, bare: Path) -> list[Entity]:
    """Publish ``folder`` as a bare repository and register its catalog-info.yaml (a Location of templates)."""
    create_repository_from_directory(folder, bare)
    location = register_location(git_target(bare), type="url")
    result = refresh_location(location.pk, force=True)
    assert result.status == "ok", result.message
    return list(Entity.objects.filter(kind__iexact="template").order_by("ref"))


def write_template(folder: Path, yaml_text: str, files: dict[str, str | bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "template.yaml").write_text(yaml_text)
    for name, content in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return folder / "template.yaml"


def template_yaml(name: str, steps: str, *, parameters: str = "", output: str = "") -> str:
    return (
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\n"
        f"metadata: {{name: {name}}}\nspec:\n  type: service\n  owner: team-a\n"
        + (f"  parameters:\n{parameters}" if parameters else "")
        + f"  steps:\n{steps}"
        + (f"  output:\n{output}" if output else "")
    )


def repo_files(bare: Path, branch: str = "main") -> dict[str, bytes]:
    import git

    repo = git.Repo(bare)
    try:
        tree = repo.commit(branch).tree
        return {item.path: item.data_stream.read() for item in tree.traverse() if item.type == "blob"}
    finally:
        repo.close()
