"""Redis or the database unreachable: the caller gets 503 with Retry-After (problem+json from the
API), never a 500; readiness says which part is down."""

from __future__ import annotations

import pytest
from django.test import override_settings

from api.tests.conftest import register_channel
from testkit.net import free_port


def _redis_down() -> dict:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
                        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}


@pytest.mark.django_db
def test_an_api_call_while_redis_is_down_is_a_503_problem_with_retry_after(client, citizen):
    egov = register_channel("egov", name="e-gov.az")
    with override_settings(CACHES=_redis_down()):
        answer = client.get("/api/v1/reasons/", headers=egov.headers(citizen.fin))
    assert answer.status_code == 503
    assert answer["Content-Type"] == "application/problem+json"
    assert answer["Retry-After"] == "30"
    assert answer.json()["status"] == 503
    assert answer.json()["title"] == "Xidmət müvəqqəti əlçatan deyil"
    # And once Redis is back, the same call answers.
    assert client.get("/api/v1/reasons/", headers=egov.headers(citizen.fin)).status_code == 200


@pytest.mark.django_db
def test_readiness_names_the_cache_when_redis_is_down(client):
    with override_settings(CACHES=_redis_down()):
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["failed"] == ["cache"]
