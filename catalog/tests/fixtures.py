"""Catalog fixtures: settings that allow test repositories, and a location factory."""

from __future__ import annotations

import pytest


@pytest.fixture
def allow_tmp(settings, tmp_path):
    """Let the catalog read files and repositories under this test's tmp_path."""
    settings.CATALOG_ALLOWED_PATHS = [*settings.CATALOG_ALLOWED_PATHS, str(tmp_path)]
    settings.GIT_CACHE_DIR = tmp_path / "git-cache"
    return tmp_path
