"""The probes: /healthz answers without any dependency, /readyz names what is not reachable."""

import json

import pytest
from django.db import connection

REDIS_CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_answers_without_the_database(client, monkeypatch):
    def no_database(*args, **kwargs):
        raise AssertionError("/healthz touched the database")

    monkeypatch.setattr(connection, "cursor", no_database)
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.content == b"ok"
    assert r["X-Request-ID"]


@pytest.mark.django_db
def test_readyz_is_200_when_everything_answers(client):
    r = client.get("/readyz")
    assert r.status_code == 200, r.content
    body = json.loads(r.content)
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "cache": "ok", "storage": "ok", "tasks": "ok"}


@pytest.mark.django_db
def test_readyz_reads_the_task_queue_table_when_tasks_use_the_database(client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    r = client.get("/readyz")
    assert r.status_code == 200, r.content


@pytest.mark.django_db
def test_readyz_is_503_naming_the_cache_when_redis_is_unreachable(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": REDIS_CLOSED_PORT,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    r = client.get("/readyz")
    assert r.status_code == 503
    body = json.loads(r.content)
    assert body["failed"] == ["cache"]
    assert body["checks"]["cache"].startswith("failed")
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_it_fails(client, monkeypatch):
    from core import health

    def broken():
        raise OSError("database down")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert json.loads(r.content)["failed"] == ["database"]
