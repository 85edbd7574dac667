"""The signed-in user is remembered per process until any user changes: no query per request for it."""

import pytest
from django.contrib.auth.models import Group

from portal.auth.backends import USERS

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/check?action=catalog.entity.read&target=component:default/nothing"


def test_a_signed_in_request_reads_the_user_once(logged_in_client, django_assert_num_queries):
    logged_in_client.get("/api/catalog/entities?limit=1")  # the user, access rules and so on, once
    with django_assert_num_queries(1):  # only the list itself
        assert logged_in_client.get("/api/catalog/entities?limit=1").status_code == 200


def test_each_request_gets_its_own_copy(logged_in_client):
    first = logged_in_client.get("/api/catalog/entities?limit=1").wsgi_request.user
    first.first_name = "set during one request"
    second = logged_in_client.get("/api/catalog/entities?limit=1").wsgi_request.user
    assert second.pk == first.pk and second.first_name == ""


def test_deactivating_a_user_signs_them_out_at_the_next_request(logged_in_client, user):
    assert logged_in_client.get("/api/catalog/entities?limit=1").status_code == 200
    user.is_active = False
    user.save()
    assert logged_in_client.get("/api/catalog/entities?limit=1").status_code in (401, 403)


def test_a_password_change_ends_other_sessions(logged_in_client, user):
    assert logged_in_client.get("/api/catalog/entities?limit=1").status_code == 200
    user.set_password("another-pw-12345")
    user.save()
    assert logged_in_client.get("/api/catalog/entities?limit=1").status_code in (401, 403)


def test_group_changes_are_seen_at_once(logged_in_client, user):
    logged_in_client.get("/api/catalog/entities?limit=1")
    before = USERS.get()
    user.groups.add(Group.objects.create(name="ops"))
    assert USERS.get() != before
    response = logged_in_client.get("/api/catalog/entities?limit=1")
    assert list(response.wsgi_request.user.groups.values_list("name", flat=True)) == ["ops"]
