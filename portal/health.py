"""Liveness and database readiness for load balancers and container health checks."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse


def health_response() -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception as exc:
        database = f"error: {type(exc).__name__}"
    healthy = database == "ok"
    response = JsonResponse({"status": "ok" if healthy else "degraded", "database": database})
    response.status_code = 200 if healthy else 503
    response["Cache-Control"] = "no-store"
    return response
