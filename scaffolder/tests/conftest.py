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


ORG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform-team, title: Platform Team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: web-experience-team, title: Web Experience}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: engineering}
spec: {type: department, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: dev}
spec: {memberOf: [platform-team]}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: journeys, title: Journey Planning}
spec: {owner: web-experience-team}
"""


@pytest.fixture
def demo_catalog(allow_tmp):
    """The demo's three templates (from a git repository, as the demo registers them) and a small org."""
    from catalog.ingestion.refresh import refresh_location, register_location
    from portal.testing.gitrepos import git_target, make_repo
    from scaffolder.tests.helpers import DEMO_TEMPLATES, register_git_templates

    org = allow_tmp / "org.git"
    make_repo(org, {"catalog-info.yaml": ORG})
    refresh_location(register_location(git_target(org)).pk, force=True)
    return register_git_templates(DEMO_TEMPLATES, allow_tmp / "templates.git")
