"""Pages need a login; the API answers 401 instead of redirecting; health is open."""

import pytest

pytestmark = pytest.mark.django_db


def test_pages_redirect_to_login(client):
    response = client.get("/catalog/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_is_open(client):
    assert client.get("/accounts/login/").status_code == 200


def test_api_answers_401_not_a_redirect(client):
    response = client.get("/api/catalog/entities")
    assert response.status_code == 401
    assert response.json()["error"]["name"] == "AuthenticationError"


def test_anonymous_read_setting_opens_reading_only(client, settings):
    settings.ANONYMOUS_READ = True
    assert client.get("/catalog/").status_code == 200
    assert client.get("/api/catalog/entities").status_code == 200
    assert client.post("/api/catalog/refresh", {}, content_type="application/json").status_code in (401, 403)
    assert client.get("/admin/").status_code == 302


def test_healthz_is_open_and_checks_the_database(client):
    response = client.get("/healthz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_logged_in_user_sees_home(logged_in_client):
    response = logged_in_client.get("/")
    assert response.status_code == 200
    assert b"Welcome" in response.content


def test_api_docs_render(logged_in_client):
    assert logged_in_client.get("/api/docs/").status_code == 200
    schema = logged_in_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/catalog/entities/" in schema.content
