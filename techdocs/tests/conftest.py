"""TechDocs test fixtures: a storage folder per test."""

from __future__ import annotations

import pytest
from django.core.files.storage import storages


@pytest.fixture
def docs_storage(settings, tmp_path):
    """Published sites go to this test's own folder."""
    settings.STORAGES = {**settings.STORAGES, "techdocs": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "site")}}}
    storages._storages.pop("techdocs", None)
    yield tmp_path / "site"
    storages._storages.pop("techdocs", None)
