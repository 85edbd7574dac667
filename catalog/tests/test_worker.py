"""A real Celery worker (on Redis when REDIS_URL is set, else the filesystem broker) runs a refresh."""

import time

import pytest

from catalog.ingestion.refresh import register_location
from catalog.models import Entity
from catalog.tasks import refresh_location
from portal.models import JobRun
from portal.testing.celery import celery_worker
from portal.testing.gitrepos import git_target, make_repo

DESCRIPTOR = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: worker-made}
spec: {type: service, lifecycle: production, owner: team-a}
"""


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_refreshes_a_git_location(allow_tmp):
    bare = allow_tmp / "repo.git"
    make_repo(bare, {"catalog-info.yaml": DESCRIPTOR})
    location = register_location(git_target(bare))
    env = {"CATALOG_ALLOWED_PATHS": str(allow_tmp)}
    with celery_worker(env) as queue:
        refresh_location.apply_async(args=[str(location.pk), True], queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Entity.objects.filter(ref="component:default/worker-made").exists():
            time.sleep(0.3)
    assert Entity.objects.filter(ref="component:default/worker-made").exists()
    job = JobRun.objects.get(name="catalog.refresh_location")
    assert job.status == JobRun.Status.SUCCEEDED
    assert job.result["added"] == 1
