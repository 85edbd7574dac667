"""Test settings: base plus the few overrides a test run needs."""

import os
import uuid

from portal.settings.base import *  # noqa: F403
from portal.settings.base import CACHES, DATA_DIR, DATABASES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in the test process unless a test starts a real worker (portal/testing/celery.py).
# A worker a test starts runs with these settings too, so what its tasks send runs eagerly inside it, unless
# the test starts it with CALLBOARD_TEST_EAGER=0 (e.g. to see real retries come back through the broker).
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CALLBOARD_TEST_EAGER", "1") != "0"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_IMPORTS = ["portal.testing.tasks"]  # jobs whose pace a test controls (worker recovery tests)
STORAGES = {
    **STORAGES,  # noqa: F405 - TechDocs' storage as configured
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a real Celery worker process can see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-callboard.sqlite3")}

# The cache the configuration names (Redis with REDIS_URL, else the data dir's files), under a prefix of
# this test session's own: other people's runs may share the Redis server, and ``cache.clear()`` between
# tests deletes only this prefix's keys (portal/rediscache.py). Processes a test starts (a worker, a
# second web process) inherit the prefix through the environment, so they share this session's cache.
os.environ.setdefault("CALLBOARD_TEST_CACHE_PREFIX", f"test-{uuid.uuid4().hex[:12]}")
CONFIGURED_CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": os.environ["CALLBOARD_TEST_CACHE_PREFIX"]}}
if REDIS_URL or os.environ.get("CALLBOARD_TEST_CONFIGURED_CACHE"):
    CACHES = CONFIGURED_CACHES
else:
    # Embedded: one process's memory, except where a test asks for CONFIGURED_CACHES (cross-process tests).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Docs builds run mkdocs: only the tests that want one start it (techdocs/tests/).
TECHDOCS_BUILD_ON_REFRESH = False
# Scoring after each refresh: only the tests that want it turn it on (scorecards/tests/; a worker through its env).
SCORECARDS_EVALUATE_ON_REFRESH = os.environ.get("SCORECARDS_EVALUATE_ON_REFRESH") == "1"
