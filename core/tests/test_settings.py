"""Operations settings: the production cache check, security settings from the environment, the
shared Redis cache, S3 object storage (against a moto server process) and JSON logs."""

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3  # type: ignore[import-untyped]  # no stubs pinned; tests only
import pytest
from django.conf import settings as django_settings
from django.core.cache.backends.redis import RedisCache
from django.core.checks import run_checks
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse

from conftest import image_bytes
from core.logging import JsonFormatter, RedactingFilter, RequestContextFilter
from testkit.net import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(django_settings.BASE_DIR)


# --- System check -------------------------------------------------------------------------------


def _cache_errors():
    return [m for m in run_checks(tags=["caches"]) if m.id == "core.E001"]


def test_a_per_process_cache_in_production_is_a_check_error(settings):
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert len(_cache_errors()) == 1
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert len(_cache_errors()) == 1


def test_redis_in_production_or_locmem_in_debug_passes_the_check(settings):
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    assert _cache_errors() == []
    settings.DEBUG = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert _cache_errors() == []


# --- Settings from the environment ---------------------------------------------------------------


def _settings_with(**environ):
    """The production settings module as a fresh process reads it with these variables."""
    code = (
        "import json, config.settings as s; print(json.dumps({k: getattr(s, k) for k in ["
        "'SECURE_PROXY_SSL_HEADER', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS',"
        "'SECURE_HSTS_PRELOAD', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_ENGINE', "
        "'USE_X_FORWARDED_HOST', 'DATABASES', 'CACHES', 'STORAGES', 'LOG_FORMAT', 'LOGGING', "
        "'AWS_DEFAULT_ACL', 'AWS_QUERYSTRING_AUTH', 'AWS_STORAGE_BUCKET_NAME']}, default=str))"
    )
    prefixes = ("SECURE_", "AWS_", "SESSION_", "CSRF_", "CONN_", "SENTRY_", "LOG_", "CACHE_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update({"DEBUG": "false", "FILE_STORAGE_BACKEND": ""} | environ)
    if not env["FILE_STORAGE_BACKEND"]:
        del env["FILE_STORAGE_BACKEND"]
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60)  # noqa: S603
    return json.loads(done.stdout)


def test_production_defaults():
    s = _settings_with()
    assert s["DATABASES"]["default"]["CONN_MAX_AGE"] == 60
    assert s["DATABASES"]["default"]["CONN_HEALTH_CHECKS"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    assert s["SECURE_HSTS_SECONDS"] == 0
    assert s["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert s["LOG_FORMAT"] == "json"
    assert s["LOGGING"]["handlers"]["console"]["formatter"] == "json"
    assert s["AWS_DEFAULT_ACL"] is None
    assert s["AWS_QUERYSTRING_AUTH"] is True


def test_security_settings_are_read_from_the_environment_under_their_own_names():
    s = _settings_with(
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https", SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000", SECURE_HSTS_INCLUDE_SUBDOMAINS="true", SECURE_HSTS_PRELOAD="true",
        SESSION_COOKIE_SECURE="true", CSRF_COOKIE_SECURE="true", USE_X_FORWARDED_HOST="true",
        SESSION_ENGINE="django.contrib.sessions.backends.cache", CONN_MAX_AGE="0",
        CACHE_URL="redis://127.0.0.1:6379/3", AWS_STORAGE_BUCKET_NAME="claims-files", DEBUG="true",
    )
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]  # a tuple, through JSON
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_HSTS_PRELOAD"] is True
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["USE_X_FORWARDED_HOST"] is True
    assert s["SESSION_ENGINE"] == "django.contrib.sessions.backends.cache"
    assert s["DATABASES"]["default"]["CONN_MAX_AGE"] == 0
    assert s["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert s["CACHES"]["default"]["OPTIONS"]["socket_timeout"] == 2.0
    assert s["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s["LOG_FORMAT"] == "text"  # DEBUG's default


def test_sentry_starts_only_with_a_dsn_and_sends_no_personal_data():
    code = (
        "import json, sentry_sdk, config.settings; c = sentry_sdk.get_client();"
        "print(json.dumps([c.is_active(), c.options['send_default_pii'], c.options['max_request_body_size']]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    off = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S603
                         check=True, timeout=60)
    assert json.loads(off.stdout)[0] is False
    env["SENTRY_DSN"] = "http://public@127.0.0.1:9/1"  # never reached: nothing is reported here
    on = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S603
                        check=True, timeout=60)
    assert json.loads(on.stdout) == [True, False, "never"]


# --- Redis: rate limits shared between processes -------------------------------------------------


@pytest.fixture
def redis_prefix():
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    client = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})._cache.get_client(write=True)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _process_cache(prefix):
    """What one web process has: its own client and connection pool on the shared Redis."""
    return RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})


def test_the_cache_backed_rate_limit_is_shared_between_processes(redis_prefix, monkeypatch):
    from api import services

    first, second = _process_cache(redis_prefix), _process_cache(redis_prefix)
    assert first._cache.get_client() is not second._cache.get_client()
    monkeypatch.setattr(services, "cache", first)
    assert services.rate_window_hit("api-rate:channel:7", limit=3) is None
    assert services.rate_window_hit("api-rate:channel:7", limit=3) is None
    monkeypatch.setattr(services, "cache", second)
    assert services.rate_window_hit("api-rate:channel:7", limit=3) is None
    assert services.rate_window_hit("api-rate:channel:7", limit=3) is not None  # the 4th, whichever process


@pytest.mark.django_db
def test_the_foreign_account_budget_is_shared_between_processes(redis_prefix, monkeypatch, settings, citizen):
    from claims import filing

    settings.FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR = 2
    monkeypatch.setattr(filing, "cache", _process_cache(redis_prefix))
    filing.foreign_lookup_allow(citizen=citizen, subscriber_code="1111111111")
    monkeypatch.setattr(filing, "cache", _process_cache(redis_prefix))
    filing.foreign_lookup_allow(citizen=citizen, subscriber_code="2222222222")
    with pytest.raises(filing.LookupLimited):
        filing.foreign_lookup_allow(citizen=citizen, subscriber_code="3333333333")


# --- S3 object storage, against a moto server process -------------------------------------------


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    moto = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def s3_storage(s3_server, settings):

    bucket = f"claims-{uuid.uuid4().hex[:12]}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", **credentials).create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = s3_server
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    return s3_server, bucket


def test_a_photo_lands_in_the_private_bucket(s3_storage, citizen_fin="AB12C3D"):
    from django.core.files.storage import default_storage

    from claims.evidence import photo_store

    endpoint, bucket = s3_storage
    upload = SimpleUploadedFile(f"sayğac-{citizen_fin}.jpg", image_bytes(), content_type="image/jpeg")

    stored = photo_store(upload, folder="claims/2026/12")

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [stored.path]
    assert citizen_fin not in stored.path
    assert stored.path.startswith("claims/2026/12/")
    # Not public: neither the object's ACL nor an anonymous GET gives it away.
    grants = s3.get_object_acl(Bucket=bucket, Key=stored.path)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith(("AllUsers", "AuthenticatedUsers"))]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{endpoint}/{bucket}/{stored.path}", timeout=10)  # noqa: S310
    assert refused.value.code == 403
    # The storage's own URL is signed and short-lived; the views proxy the file anyway.
    assert "X-Amz-Signature=" in default_storage.url(stored.path)
    with default_storage.open(stored.path) as fh:
        assert fh.read()[:2] == b"\xff\xd8"


@pytest.mark.django_db
def test_readyz_checks_the_bucket(client, s3_storage, settings):
    assert client.get("/readyz").status_code == 200
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket"
    settings.STORAGES = {**settings.STORAGES}  # rebuilds the storage with the new bucket
    r = client.get("/readyz")
    assert r.status_code == 503
    assert json.loads(r.content)["failed"] == ["storage"]


# --- Logs ----------------------------------------------------------------------------------------


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    handler.addFilter(RedactingFilter())
    loggers = [logging.getLogger("django.request"), logging.getLogger("core.tests")]
    for lg in loggers:
        lg.addHandler(handler)
    yield stream
    for lg in loggers:
        lg.removeHandler(handler)


def _lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_json_log_lines_carry_the_request_id_and_no_fin(client, json_log):
    r = client.get("/no-such-page/AB12C3D/", headers={"X-Request-ID": "lb-4f2a.9"})
    assert r.status_code == 404
    assert r["X-Request-ID"] == "lb-4f2a.9"
    [line] = [x for x in _lines(json_log) if x["logger"] == "django.request"]
    assert line["request_id"] == "lb-4f2a.9"
    assert line["level"] == "WARNING"
    assert line["role"] == "anonymous" or line["role"] is None
    assert "AB12C3D" not in json.dumps(line)


@pytest.mark.django_db
def test_an_unsafe_request_id_is_replaced(client):
    r = client.get("/healthz", headers={"X-Request-ID": "bad id\twith <html>"})
    assert r["X-Request-ID"] != "bad id\twith <html>"
    assert len(r["X-Request-ID"]) == 32


def test_personal_data_is_masked_in_messages(json_log):
    logging.getLogger("core.tests").warning(
        "citizen %s, phone %s, e-mail %s, claim %s", "5ZX9K2P", "+994 50 123 45 67", "a.b@mail.az", "2026-000123")
    [line] = _lines(json_log)
    assert "5ZX9K2P" not in line["message"]
    assert "123 45 67" not in line["message"]
    assert "a.b@mail.az" not in line["message"]
    assert "2026-000123" in line["message"]
    assert line["request_id"] is None


def test_a_traceback_path_is_not_taken_for_a_fin(json_log):
    logging.getLogger("core.tests").warning("in /usr/lib/python3.11/site-packages, citizen %s", "5ZX9K2P")
    [line] = _lines(json_log)
    assert "/usr/lib/python3.11/site-packages" in line["message"]
    assert "5ZX9K2P" not in line["message"]


@pytest.mark.django_db
def test_log_lines_in_a_view_carry_the_claim_number_and_the_role(rf, json_log, citizen):
    from core.logging import RequestIdMiddleware

    def view(request, number):
        request.user  # noqa: B018  (loaded by the view, as a real view does)
        logging.getLogger("core.tests").info("claim looked at")
        return HttpResponse("ok")

    def get_response(request):
        middleware.process_view(request, view, (), {"number": "2026-000042"})
        return view(request, number="2026-000042")

    middleware = RequestIdMiddleware(get_response)
    request = rf.get("/claims/2026-000042/")
    request._cached_user = citizen
    request.user = citizen
    response = middleware(request)

    [line] = _lines(json_log)
    assert line["claim_number"] == "2026-000042"
    assert line["role"] == "citizen"
    assert line["request_id"] == response["X-Request-ID"]
    assert citizen.fin not in json.dumps(line)


def test_a_task_enqueued_in_a_request_logs_under_that_request_id(rf, json_log):
    from django_tasks import task_backends

    from core.logging import RequestIdMiddleware, carries_request_id
    from core.outbox import enqueue_task
    from notifications.tasks import deliver_notification

    backend = task_backends["default"]
    backend.clear()  # type: ignore[attr-defined]

    def view(request):
        enqueue_task(deliver_notification, 41)
        return HttpResponse("ok")

    RequestIdMiddleware(view)(rf.get("/", headers={"X-Request-ID": "lb-77.a"}))
    [result] = backend.results  # type: ignore[attr-defined]
    assert result.args == [41] and result.kwargs == {"request_id": "lb-77.a"}
    backend.clear()  # type: ignore[attr-defined]

    @carries_request_id
    def send(row_id):
        logging.getLogger("core.tests").info("sending %s", row_id)

    send(41, request_id="lb-77.a")
    send(42, request_id="bad id\nwith newline")
    first, second = _lines(json_log)
    assert first["request_id"] == "lb-77.a" and first["message"] == "sending 41"
    assert second["request_id"] is None
