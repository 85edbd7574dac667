"""HTTP entry point of ${{ values.name }}."""

from fastapi import FastAPI, HTTPException

SERVICE_NAME = ${{ values.name | dump }}

app = FastAPI(title=SERVICE_NAME, description=${{ values.description | dump }}, version="0.1.0")

_items: dict[int, dict] = {}


@app.get("/healthz")
def healthz() -> dict:
    """Liveness probe used by Kubernetes."""
    return {"status": "ok", "service": SERVICE_NAME}


@app.get("/items/{item_id}")
def read_item(item_id: int) -> dict:
    if item_id not in _items:
        raise HTTPException(status_code=404, detail="item not found")
    return _items[item_id]


@app.put("/items/{item_id}", status_code=201)
def put_item(item_id: int, item: dict) -> dict:
    _items[item_id] = item
    return item
