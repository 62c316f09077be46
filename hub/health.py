"""`GET /healthz`: whether this hub can take and move captures, for monitoring.

Checks the three things a capture needs: the database, the broker that
carries its tasks, and a writable data directory. Answers 200 when all are
fine, 503 naming the one that is not; no authentication, and nothing about
patients or captures in the answer.
"""

from __future__ import annotations

import os
import tempfile

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from hub.celery import app


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _broker() -> str:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def _storage() -> str:
    with tempfile.NamedTemporaryFile(dir=settings.HUB_DATA_DIR, prefix=".health-") as probe:
        probe.write(b"ok")
        probe.flush()
        os.fsync(probe.fileno())
    return "ok"


CHECKS = {"database": _database, "broker": _broker, "storage": _storage}


def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # a health check reports every failure, it never raises
            results[name] = f"failing: {type(error).__name__}"
    healthy = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", **results}, status=200 if healthy else 503
    )
