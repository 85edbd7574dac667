from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_healthz():
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["service"] == ${{ values.name | dump }}


def test_missing_item_is_404():
    assert client.get("/items/42").status_code == 404
