"""The web pages: gallery, template page and the multi-step form, through Django's test client."""

import json

import pytest

from scaffolder.models import Task

pytestmark = pytest.mark.django_db


def test_smoke(client, runner, demo_catalog):
    client.force_login(runner)
    r = client.get("/create/")
    assert r.status_code == 200, r.content
    
    r = client.get("/create/templates/default/python-fastapi-service/")
    assert r.status_code == 200
    r = client.get("/create/templates/default/python-fastapi-service/run/")
    assert r.status_code == 200
    print(r.content.decode())
