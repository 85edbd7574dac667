"""The project's own docs build with mkdocs + techdocs-core in strict mode (later served by TechDocs)."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def test_project_docs_build_strictly(tmp_path):
    mkdocs = Path(sys.executable).with_name("mkdocs")
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=settings.BASE_DIR,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "techdocs_metadata.json").exists()
