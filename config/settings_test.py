"""Test defaults: only defaults differ from production settings; the environment still wins."""

import os

os.environ.setdefault("DEV_LOGIN_ENABLED", "true")
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.dummy.DummyBackend")
os.environ.setdefault("EMAIL_URL", "memorymail://")
os.environ.setdefault("SMS_BACKEND", "notifications.sms.LocmemSmsBackend")
os.environ.setdefault("STATIC_MANIFEST", "false")  # no collectstatic before a test run
# Staff tests log users in with force_login; the second factor's own tests switch it on.
os.environ.setdefault("STAFF_OTP_REQUIRED_ROLES", "")
# Webhook receivers of the tests listen on loopback over plain HTTP.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_URLS", "true")
if "TEST_DATABASE_URL" in os.environ:
    os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]

from .settings import *  # noqa: E402,F403

MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
