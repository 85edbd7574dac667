"""Changes made in one process reach another web process through the shared cache (portal/versions.py).

The other process is a real gunicorn on the test database, asked over HTTP. Each process keeps tokens,
users and access rules in its own memory per version counter; a change bumps the counter in the shared
cache: Redis with REDIS_URL, else the data dir's file cache (what the embedded configuration uses).
"""

import time
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from catalog.ingestion.refresh import refresh_location, register_location
from portal.models import ApiToken
from portal.models.access import Role, RoleGrant
from portal.testing.webserver import status, web_process
from portal.versions import forget_all

pytestmark = pytest.mark.django_db(transaction=True)

COMPONENT = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: web}\n"
COMPONENT += "spec: {type: service, lifecycle: production, owner: team-a}\n"


def eventually(check: Callable[[], bool], timeout: float = 20) -> bool:
    """Whether ``check()`` comes true within ``timeout`` (another process sees a bump within ~0.5 s)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def shared_cache(settings):
    """This process on the cache the configuration names, as the web process is (not per-process memory)."""
    settings.CACHES = settings.CONFIGURED_CACHES
    cache.clear()
    forget_all()
    yield
    cache.clear()
    forget_all()


@pytest.fixture
def other_process(shared_cache, allow_tmp):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(COMPONENT)
    refresh_location(register_location(str(path), type="file").pk)
    with web_process({"CALLBOARD_TEST_CONFIGURED_CACHE": "1"}) as base:
        yield base


def test_a_rule_change_a_revocation_and_a_deactivation_reach_the_other_process(other_process, user):
    entity = f"{other_process}/api/catalog/entities/by-name/component/default/web"
    first, first_raw = ApiToken.issue(user, name="first")
    _, second_raw = ApiToken.issue(user, name="second")
    with_first = {"Authorization": f"Bearer {first_raw}"}
    with_second = {"Authorization": f"Bearer {second_raw}"}
    # Read once with each token: the other process now holds the tokens, the user and the rules in memory.
    assert status(entity, with_first) == 200
    assert status(entity, with_second) == 200

    # An access rule: denying the viewer role to the user hides the entity there; removing it shows it again.
    deny = RoleGrant.objects.create(name="no reading", role=Role.builtin_role("viewer"), user=user,
                                    subject=RoleGrant.Subject.USER, effect=RoleGrant.Effect.DENY)  # fmt: skip
    assert eventually(lambda: status(entity, with_first) == 404), "the deny rule never reached the other process"
    deny.delete()
    assert eventually(lambda: status(entity, with_first) == 200), "the rule's removal never reached it"

    # A revoked token is refused there; the user's other token still works.
    first.revoke()
    assert eventually(lambda: status(entity, with_first) == 401), "the revocation never reached the other process"
    assert status(entity, with_second) == 200

    # A deactivated user's remaining token is refused there too.
    user.is_active = False
    user.save()
    assert eventually(lambda: status(entity, with_second) == 401), "the deactivation never reached it"
    assert get_user_model().objects.filter(pk=user.pk, is_active=False).exists()
