"""ensure_admin prints credentials once; serve runs the same programs as the Docker entrypoint."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from portal.management.commands.serve import process_commands


@pytest.mark.django_db
def test_ensure_admin_creates_once(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "password:" in out.getvalue()
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert "password" not in again.getvalue()


def test_serve_runs_web_worker_and_beat():
    commands = process_commands("127.0.0.1", 8000, 2, 1)
    assert set(commands) == {"web", "worker", "beat"}
    assert "portal.wsgi:application" in commands["web"]
    assert commands["worker"][2:6] == ["celery", "-A", "portal", "worker"]
    assert "beat" in commands["beat"]
