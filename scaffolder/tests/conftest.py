import pytest

from portal.testing.access import grant


@pytest.fixture
def runner(user):
    """A person allowed to run templates (the contributor role)."""
    grant("contributor", user=user)
    return user


@pytest.fixture
def scaffold_dirs(allow_tmp, settings):
    settings.LOCAL_REPOS_DIR = allow_tmp / "repos"
    return allow_tmp
