"""The demo organisation: each folder of demo/repos becomes a local git repository, registered once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

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
    results = []
    for folder in demo_repos(source):
        repo = DemoRepo(folder.name, Path(settings.LOCAL_REPOS_DIR) / "demo" / f"{folder.name}.git")
        create_repository_from_directory(folder, repo.bare_path, message=f"Demo content for {folder.name}")
        location = refresh.register_location(repo.target, type=Location.Type.URL, created_by="demo")
        result = refresh.refresh_location(location.pk, force=True) if refresh_now else None
        results.append((repo, result))
    return results


def demo_loaded() -> bool:
    return Location.objects.filter(created_by="demo").exists()
