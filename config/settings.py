"""Settings for the debt-investigation e-service.

Every value comes from the environment (12-factor) through django-environ, with a safe
default. docs/configuration.md lists each variable.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "core",
    "identity",
    "audit",
    "billing",
    "notifications",
    "claims",
    "inspections",
    "commission",
    "portal",
    "backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.organisation",
                "backoffice.context_processors.office",
            ],
        },
    },
]

# SQLite file by default; DATABASE_URL=postgres://user@host:5432/name switches to PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the worker write the same file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # staff lockout after repeated failed passwords
    "django.contrib.auth.backends.ModelBackend",
]
# Staff login lockout (django-axes): after AXES_FAILURE_LIMIT failures for a username, the
# account is locked for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_MINUTES", default=30) / 60
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "backoffice/locked.html"
LOGIN_URL = "identity:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Languages: Azerbaijani is the default; English and Russian are complete.
LANGUAGE_CODE = "az"
LANGUAGES = [("az", "Azərbaycanca"), ("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Baku")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": env.str("FILE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 2)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Uploads: photos of the meter. The request body limit leaves room for several photos.
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Background tasks: Django's Tasks API, database backend by default.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "notifications"],
    }
}

# E-mail: console by default; EMAIL_URL=smtp://user:pass@host:port switches to SMTP.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Azərsu e-xidmət <noreply@e-xidmet.local>")

# SMS: console by default; the HTTP gateway backend posts to SMS_GATEWAY_URL.
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.ConsoleSmsBackend")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_USER = env.str("SMS_GATEWAY_USER", default="")
SMS_GATEWAY_PASSWORD = env.str("SMS_GATEWAY_PASSWORD", default="")
SMS_SENDER = env.str("SMS_SENDER", default="AZERSU")
SMS_TIMEOUT = env.int("SMS_TIMEOUT", default=10)

# Notification delivery: bounded retries with exponential backoff.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=5)
DELIVERY_BACKOFF_SECONDS = env.int("DELIVERY_BACKOFF_SECONDS", default=30)
DELIVERY_STALE_SECONDS = env.int("DELIVERY_STALE_SECONDS", default=300)

# Billing gateway: the local tables by default; an HTTP adapter later, same interface.
BILLING_GATEWAY = env.str("BILLING_GATEWAY", default="billing.gateway.LocalBillingGateway")

# Login: the development identity provider page is refused unless switched on.
DEV_LOGIN_ENABLED = env.bool("DEV_LOGIN_ENABLED", default=False)

# Look-ups of accounts the citizen does not hold: at most this many per hour.
FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR = env.int("FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR", default=20)

# Deadlines (Law "On citizens' appeals", art. 10.1): working days to answer.
CLAIM_ANSWER_WORKING_DAYS = env.int("CLAIM_ANSWER_WORKING_DAYS", default=15)

# The organisation: name, logo and contacts may change; they are settings, not code.
ORGANISATION = {
    "name": env.str("ORG_NAME", default="“Azərsu” ASC"),
    "service_name": env.str("ORG_SERVICE_NAME", default="Borcun araşdırılması üzrə müraciət"),
    "phone": env.str("ORG_PHONE", default="*1655"),
    "email": env.str("ORG_EMAIL", default="office@azersu.az"),
    "website": env.str("ORG_WEBSITE", default="https://www.azersu.az"),
    "logo_url": env.str("ORG_LOGO_URL", default="/static/img/logo.svg"),
    "brand_colour": env.str("ORG_BRAND_COLOUR", default="#0b5ea8"),
    "portal_url": env.str("PORTAL_URL", default="http://127.0.0.1:8000"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Lockout is per username on purpose: branch staff share office NAT addresses.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
