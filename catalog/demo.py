"""The demo organisation: each folder of demo/repos becomes a local git repository, registered once."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from catalog import events
from catalog.ingestion import refresh
from catalog.models import Location
from portal.git import create_repository_from_directory

DEMO_SOURCE = Path(settings.BASE_DIR) / "demo" / "repos"


@dataclass
class DemoRepo:
    name: str
    bare_path: Path

    @property
    def target(self) -> str:
        return f"git+{self.bare_path.as_uri()}@main#path=catalog-info.yaml"


def demo_repos(source: Path = DEMO_SOURCE) -> list[Path]:
    return sorted(p for p in source.iterdir() if (p / "catalog-info.yaml").is_file()) if source.is_dir() else []


def load_demo(*, source: Path = DEMO_SOURCE, refresh_now: bool = True) -> list[tuple[DemoRepo, object]]:
    """Publish every demo repository, register it and (optionally) ingest it now."""
    with tempfile.TemporaryDirectory(prefix="callboard-demo-") as tmp:
        folders = demo_repos(source)
        if source == DEMO_SOURCE and (own := callboard_docs_source(Path(tmp) / "callboard")) is not None:
            folders.append(own)
        return _load(folders, refresh_now=refresh_now)


def _load(folders: list[Path], *, refresh_now: bool) -> list[tuple[DemoRepo, object]]:
    results = []
    for folder in folders:
        repo = DemoRepo(folder.name, Path(settings.LOCAL_REPOS_DIR) / "demo" / f"{folder.name}.git")
        create_repository_from_directory(folder, repo.bare_path, message=f"Demo content for {folder.name}")
        location = refresh.register_location(repo.target, type=Location.Type.URL, created_by="demo")
        result = refresh.refresh_location(location.pk, force=True) if refresh_now else None
        results.append((repo, result))
    events.demo_loaded.send(sender=None)
    return results


def callboard_docs_source(dest: Path) -> Path | None:
    """Callboard's own docs as a demo repository: the project's mkdocs.yml and docs/, and a descriptor."""
    base = Path(settings.BASE_DIR)
    if not (base / "mkdocs.yml").is_file() or not (base / "docs").is_dir():
        return None  # an image built without them
    dest.mkdir(parents=True)
    shutil.copy(base / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(base / "docs", dest / "docs")
    (dest / "catalog-info.yaml").write_text(CALLBOARD_DESCRIPTOR, encoding="utf-8")
    return dest


CALLBOARD_DESCRIPTOR = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: callboard
  title: Callboard
  description: The internal developer portal you are using; its own docs are read here like any team's.
  annotations:
    backstage.io/techdocs-ref: dir:.
  tags: [python, django, portal]
spec:
  type: website
  lifecycle: production
  owner: group:default/platform-team
"""


def demo_loaded() -> bool:
    return Location.objects.filter(created_by="demo").exists()
