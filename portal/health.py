"""Liveness and readiness for load balancers, container health checks and monitoring.

``GET /healthz`` answers 200 while the web process can reach its database, with ``"status": "ok"``, or
``"degraded"`` and a ``"worker"`` message when no worker has completed a heartbeat task or a job for
``WORKER_STALE_AFTER`` seconds (the pool is stuck, or workers or beat are down). A stuck worker does not
take web out of a load balancer's rotation; ``GET /healthz?strict=1`` answers 503 for it, for monitoring.
"""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse

from portal.jobs import worker_problem


def health_response(*, strict: bool = False) -> JsonResponse:
    body = {"status": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        body["database"] = "ok"
    except Exception as exc:
        body.update(status="degraded", database=f"error: {type(exc).__name__}")
    else:
        try:
            problem = worker_problem()
        except Exception as exc:  # e.g. a migration not applied yet: web itself still serves
            problem = f"not checked: {type(exc).__name__}"
        if problem:
            body.update(status="degraded", worker=problem)
    failed = body.get("database") != "ok" or (strict and body["status"] != "ok")
    response = JsonResponse(body)
    response.status_code = 503 if failed else 200
    response["Cache-Control"] = "no-store"
    return response
