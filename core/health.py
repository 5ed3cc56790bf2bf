"""Probes for the load balancer and the orchestrator.

``/healthz`` (liveness): the process answers; it touches nothing else, so a database outage does
not get every web process restarted. ``/readyz`` (readiness): the database, the cache, the file
storage and the task queue's table answer; 503 with the names of those that did not.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

DATABASE_TASKS_BACKEND = "django_tasks_db.DatabaseBackend"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        # A per-process dummy cache keeps nothing: the rate limits would not hold.
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def _storage() -> None:
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:  # S3: the bucket exists and these credentials may use it
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    else:
        default_storage.exists("readyz")


def _tasks() -> None:
    if settings.TASKS["default"]["BACKEND"] != DATABASE_TASKS_BACKEND:
        return  # another backend (Redis/RQ, dummy in tests) has no table here
    apps.get_model("django_tasks_database", "DBTaskResult").objects.exists()


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "cache": _cache, "storage": _storage, "tasks": _tasks}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            logger.warning("readiness check %s failed: %s", name, type(exc).__name__, exc_info=True)
            results[name] = f"failed: {type(exc).__name__}"
        else:
            results[name] = "ok"
    failed = [name for name, result in results.items() if result != "ok"]
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": results}
    return JsonResponse(body, status=503 if failed else 200)
