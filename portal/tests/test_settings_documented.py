"""Every environment variable the settings read is documented in docs/configuration.md."""

import re
from pathlib import Path

from django.conf import settings

from portal.settings.env import READ_VARIABLES

DOC = Path(settings.BASE_DIR) / "docs" / "configuration.md"


def documented() -> set[str]:
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", DOC.read_text(), flags=re.MULTILINE))


def test_every_variable_read_is_documented():
    assert READ_VARIABLES, "the settings should read their values through portal.settings.env"
    missing = READ_VARIABLES - documented()
    assert not missing, f"Document these in docs/configuration.md: {sorted(missing)}"


def test_documentation_lists_no_stale_variables():
    extra = documented() - READ_VARIABLES - {"CALLBOARD_ADMIN_PASSWORD"}
    assert not extra, f"docs/configuration.md lists variables the settings never read: {sorted(extra)}"
