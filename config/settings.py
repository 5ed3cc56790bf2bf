"""Settings for the debt-investigation e-service.

Every value comes from the environment (12-factor) through django-environ, with a safe
default. The README (and docs/sso.md, docs/api.md) list each variable.
"""

from pathlib import Path

import environ

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
    "privacy",
    "portal",
    "backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "billing.middleware.BillingUnavailableMiddleware",  # billing down: "try again in a few minutes", never a 500
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
# Persistent connections (seconds; 0 closes after each request), checked before reuse.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))

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
# The language of the e-mails to staff (the daily deadline digest): az, en or ru.
STAFF_LANGUAGE = env.str("STAFF_LANGUAGE", default="az")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Baku")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Photos and letters: local files by default; AWS_STORAGE_BUCKET_NAME switches to S3-compatible
# object storage (django-storages; see "Object storage" below for its AWS_* settings).
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": {"BACKEND": env.str("FILE_STORAGE_BACKEND", default="storages.backends.s3.S3Storage"
                                   if AWS_STORAGE_BUCKET_NAME else "django.core.files.storage.FileSystemStorage")},
    # Production: compressed and with the content's hash in each name (collectstatic writes the
    # manifest; browsers may keep such a file for a year). Development and tests: names as they are.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if env.bool("STATIC_MANIFEST", default=not DEBUG)
                    else "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# "django.contrib.sessions.backends.cache" or "...cached_db" keeps sessions in the cache (Redis).
SESSION_ENGINE = env.str("SESSION_ENGINE", default="django.contrib.sessions.backends.db")
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 2)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SESSION_COOKIE_SECURE)
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
# Where a citizen's reply to a notification goes (the From address takes no mail).
EMAIL_REPLY_TO = env.str("EMAIL_REPLY_TO", default=env.str("ORG_EMAIL", default="office@azersu.az"))

# SMS: console by default; the HTTP gateway backend posts to SMS_GATEWAY_URL.
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.ConsoleSmsBackend")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_USER = env.str("SMS_GATEWAY_USER", default="")
SMS_GATEWAY_PASSWORD = env.str("SMS_GATEWAY_PASSWORD", default="")
SMS_SENDER = env.str("SMS_SENDER", default="AZERSU")
SMS_TIMEOUT = env.int("SMS_TIMEOUT", default=10)
# The gateway's request (docs/sms.md): "json" or "form", and the body with {sender}, {to},
# {to_digits}, {text} and {reference} (the delivery's id: the gateway drops a repeat).
SMS_GATEWAY_FORMAT = env.str("SMS_GATEWAY_FORMAT", default="json")
SMS_GATEWAY_BODY = env.json("SMS_GATEWAY_BODY", default={
    "from": "{sender}", "to": "{to}", "text": "{text}", "reference": "{reference}"})
SMS_REFERENCE_PREFIX = env.str("SMS_REFERENCE_PREFIX", default="borc-")
# An SMS longer than this many segments has its free text (last in every template) cut.
SMS_MAX_SEGMENTS = env.int("SMS_MAX_SEGMENTS", default=2)

# Notification delivery: a temporary failure is retried until DELIVERY_RETRY_HORIZON seconds
# after the message was written (72 hours, as GOV.UK Notify), waiting DELIVERY_BACKOFF_BASE
# seconds after the first failure, doubling up to DELIVERY_BACKOFF_CAP; then it is failed.
DELIVERY_RETRY_HORIZON = env.float("DELIVERY_RETRY_HORIZON", default=72 * 3600)
DELIVERY_BACKOFF_BASE = env.float("DELIVERY_BACKOFF_BASE", default=env.float("DELIVERY_BACKOFF_SECONDS", default=30))
DELIVERY_BACKOFF_CAP = env.float("DELIVERY_BACKOFF_CAP", default=900)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=0)  # 0: no limit but the horizon
DELIVERY_STALE_SECONDS = env.float("DELIVERY_STALE_SECONDS", default=300)

# Billing gateway: the local tables by default; BILLING_URL switches to the HTTP adapter of the
# contract in docs/billing-api.yaml (README.md lists every BILLING_* variable).
BILLING_URL = env.str("BILLING_URL", default="")
BILLING_GATEWAY = env.str("BILLING_GATEWAY", default="billing.http.HttpBillingGateway" if BILLING_URL
                          else "billing.gateway.LocalBillingGateway")
BILLING_TOKEN = env.str("BILLING_TOKEN", default="")  # a static bearer token, or OAuth2 client credentials:
BILLING_OAUTH_TOKEN_URL = env.str("BILLING_OAUTH_TOKEN_URL", default="")
BILLING_CLIENT_ID = env.str("BILLING_CLIENT_ID", default="")
BILLING_CLIENT_SECRET = env.str("BILLING_CLIENT_SECRET", default="")
BILLING_OAUTH_SCOPE = env.str("BILLING_OAUTH_SCOPE", default="")
BILLING_CLIENT_CERT = env.str("BILLING_CLIENT_CERT", default="")  # mutual TLS: PEM certificate and key files
BILLING_CLIENT_KEY = env.str("BILLING_CLIENT_KEY", default="")
BILLING_CA_BUNDLE = env.str("BILLING_CA_BUNDLE", default="")  # CA file to verify billing by; default: system CAs
BILLING_CONNECT_TIMEOUT = env.float("BILLING_CONNECT_TIMEOUT", default=3.0)  # seconds
BILLING_READ_TIMEOUT = env.float("BILLING_READ_TIMEOUT", default=8.0)  # seconds
BILLING_READ_RETRIES = env.int("BILLING_READ_RETRIES", default=2)  # extra attempts of a read, with backoff
BILLING_RETRY_BACKOFF_SECONDS = env.float("BILLING_RETRY_BACKOFF_SECONDS", default=0.3)
BILLING_BREAKER_FAILURES = env.int("BILLING_BREAKER_FAILURES", default=5)  # failures in a row that open the breaker
BILLING_BREAKER_OPEN_SECONDS = env.int("BILLING_BREAKER_OPEN_SECONDS", default=30)
BILLING_CACHE_SECONDS = env.int("BILLING_CACHE_SECONDS", default=60)  # reads kept in the shared cache
# Postings of approved corrections (core.outbox): billing down is retried until
# BILLING_POSTING_RETRY_HORIZON seconds after the posting was written (7 days: a correction still
# reaches billing after a long weekend's outage), waiting BILLING_POSTING_BACKOFF_SECONDS after
# the first failure, doubling up to BILLING_POSTING_BACKOFF_CAP; then it is failed (admin, sent
# again by staff; listed by manage.py billing_reconcile).
BILLING_POSTING_RETRY_HORIZON = env.float("BILLING_POSTING_RETRY_HORIZON", default=7 * 24 * 3600)
BILLING_POSTING_BACKOFF_SECONDS = env.int("BILLING_POSTING_BACKOFF_SECONDS", default=60)
BILLING_POSTING_BACKOFF_CAP = env.float("BILLING_POSTING_BACKOFF_CAP", default=3600)
BILLING_POSTING_MAX_ATTEMPTS = env.int("BILLING_POSTING_MAX_ATTEMPTS", default=0)  # 0: no limit but the horizon
BILLING_POSTING_STALE_SECONDS = env.int("BILLING_POSTING_STALE_SECONDS", default=300)
# Told when a posting is confirmed or given up (the commission closes the claim).
BILLING_POSTING_SUBSCRIBERS = ["commission.services.posting_settled"]

# Login: the development identity provider page is refused unless switched on.
DEV_LOGIN_ENABLED = env.bool("DEV_LOGIN_ENABLED", default=False)

# Look-ups of accounts the citizen does not hold: at most this many per hour.
FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR = env.int("FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR", default=20)

# Deadlines (Law "On citizens' appeals", art. 10.1): working days to answer.
CLAIM_ANSWER_WORKING_DAYS = env.int("CLAIM_ANSWER_WORKING_DAYS", default=15)
# Information requests (art. 10.2): the date the citizen is asked to answer by, by default this
# many working days after the request (all waits of a claim add up to 30 working days at most),
# and the reminder this many working days before it.
INFO_REPLY_WORKING_DAYS = env.int("INFO_REPLY_WORKING_DAYS", default=10)
INFO_REMIND_WORKING_DAYS = env.int("INFO_REMIND_WORKING_DAYS", default=2)
# Letters to the competent body of an appeal outside competence (art. 7.10), on the outbox engine:
# retried until REFERRAL_RETRY_HORIZON seconds after the letter was written (72 hours), waiting
# REFERRAL_BACKOFF_SECONDS after the first failure, doubling up to REFERRAL_BACKOFF_CAP; then it
# is failed (admin, "send again"). REFERRAL_MAX_ATTEMPTS > 0 also stops it after that many.
REFERRAL_RETRY_HORIZON = env.float("REFERRAL_RETRY_HORIZON", default=72 * 3600)
REFERRAL_BACKOFF_CAP = env.float("REFERRAL_BACKOFF_CAP", default=3600)
REFERRAL_MAX_ATTEMPTS = env.int("REFERRAL_MAX_ATTEMPTS", default=0)  # 0: no limit but the horizon
REFERRAL_BACKOFF_SECONDS = env.int("REFERRAL_BACKOFF_SECONDS", default=60)
REFERRAL_STALE_SECONDS = env.int("REFERRAL_STALE_SECONDS", default=300)
# The key of the keyed hash that replaces a FIN on anonymisation (claims.pseudonyms). Changing it
# stops repeat appeals from being recognised across the change.
PSEUDONYM_KEY = env.str("PSEUDONYM_KEY", default=SECRET_KEY)
# Retention after a claim ends, in days, per kind of personal data (privacy.services; docs/privacy.md).
# Contacts, photos and notification recipients go at once when the citizen withdraws consent.
RETENTION_DAYS = {
    "contacts": env.int("RETENTION_CONTACTS_DAYS", default=90),
    "photos": env.int("RETENTION_PHOTOS_DAYS", default=90),
    "notifications": env.int("RETENTION_NOTIFICATIONS_DAYS", default=30),
    "archive": env.int("RETENTION_ARCHIVE_DAYS", default=5 * 365),  # the decision: name, address, FIN, letters
}
# Told of every move of a claim inside its transaction (claims.workflow.perform), in this
# order: a lower app reaches the higher ones only through these.
CLAIM_CHANGE_SUBSCRIBERS = [
    "inspections.subscribers.on_claim_change",
    "notifications.subscribers.on_claim_change",
    "api.subscribers.on_claim_change",
]

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

# ---------------------------------------------------------------------------------------------
# National SSO: identity providers (identity/providers/, docs/sso.md)
# ---------------------------------------------------------------------------------------------
# Which backend logs citizens in: the development page (default; also needs DEV_LOGIN_ENABLED),
# identity.providers.oidc.OidcProvider or identity.providers.asan.AsanLoginProvider.
IDENTITY_PROVIDER = env.str("IDENTITY_PROVIDER", default="identity.providers.dev.DevProvider")
SSO_HTTP_TIMEOUT = env.int("SSO_HTTP_TIMEOUT", default=10)  # seconds per request to the SSO
SSO_CLOCK_LEEWAY = env.int("SSO_CLOCK_LEEWAY", default=60)  # seconds of clock skew allowed on exp/iat/nbf
SSO_KEYS_CACHE_SECONDS = env.int("SSO_KEYS_CACHE_SECONDS", default=3600)  # discovery document and JWKS
# Standard OpenID Connect (authorization code flow with PKCE).
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_TOKEN_AUTH_METHOD = env.str("OIDC_TOKEN_AUTH_METHOD", default="client_secret_basic")  # or client_secret_post, none
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid profile")
OIDC_FIN_CLAIM = env.str("OIDC_FIN_CLAIM", default="fin")  # dotted path for nested claims
OIDC_METHOD_CLAIM = env.str("OIDC_METHOD_CLAIM", default="amr")
OIDC_METHOD_MAP = env.json("OIDC_METHOD_MAP", default={})  # {"provider value": "sima_token", ...}
# "Asan Login" protocol.
ASAN_LOGIN_URL = env.str("ASAN_LOGIN_URL", default="")  # where /auth?origin=... is
ASAN_API_URL = env.str("ASAN_API_URL", default="")  # where /ssoauthz/api/v1/... is; default ASAN_LOGIN_URL
ASAN_FIN_CLAIM = env.str("ASAN_FIN_CLAIM", default="main.person.pin")
ASAN_METHOD_CLAIM = env.str("ASAN_METHOD_CLAIM", default="amr")
ASAN_METHOD_MAP = env.json("ASAN_METHOD_MAP", default={})
ASAN_AUDIENCE = env.str("ASAN_AUDIENCE", default="")  # checked when set
ASAN_ISSUER = env.str("ASAN_ISSUER", default="")  # checked when set
ASAN_CHECK_AUTH_SCHEME = env.str("ASAN_CHECK_AUTH_SCHEME", default="Bearer")  # "" sends the bare token
# Log out after this many seconds without a request (0: never); SESSION_COOKIE_AGE bounds the session.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
MIDDLEWARE.append("identity.middleware.IdleTimeoutMiddleware")
# --------------------------------------------------------------------------- end of national SSO

# --- Channel REST API (app "api"; docs/api.md) -------------------------------------------------
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "api"]
REST_FRAMEWORK = {
    # api.views.ApiView sets these explicitly too; the defaults keep any other DRF view safe.
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ChannelAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.IsChannel"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Debt-investigation claims: channel API",
    "DESCRIPTION": (
        "The REST API through which channels (e-gov.az, e-su.az, azersu.az, the mobile app) file and "
        "follow debt-investigation claims for citizens. Authentication, idempotency, errors (RFC 9457 "
        "problem details), webhooks and rate limits: see docs/api.md."
    ),
    "VERSION": "1.0.0",
    # 3.1: plain JSON Schema (nullable references validate), and the webhooks the API sends.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "ENUM_NAME_OVERRIDES": {
        "ClaimStatusEnum": "claims.transitions.ClaimStatus",
        "ClaimOutcomeEnum": "claims.transitions.ClaimOutcome",
    },
    "WEBHOOKS": ["api.schema.claim_event_webhook"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.complete"],
}
# Citizen tokens: their "aud" must be this; they may live at most MAX_AGE seconds (exp - iat).
API_AUDIENCE = env.str("API_AUDIENCE", default=f"{ORGANISATION['portal_url'].rstrip('/')}/api/")
API_CITIZEN_TOKEN_MAX_AGE_SECONDS = env.int("API_CITIZEN_TOKEN_MAX_AGE_SECONDS", default=300)
API_CITIZEN_TOKEN_LEEWAY_SECONDS = env.int("API_CITIZEN_TOKEN_LEEWAY_SECONDS", default=30)
# Citizen assertion backends (each reads its own header); a national-SSO backend is added here.
API_CITIZEN_ASSERTION_BACKENDS = env.list("API_CITIZEN_ASSERTION_BACKENDS",
                                          default=["api.auth.ChannelJwtAssertion"])
# Fixed one-minute windows; a channel's own limits (admin) win over these.
API_RATE_PER_CHANNEL_PER_MINUTE = env.int("API_RATE_PER_CHANNEL_PER_MINUTE", default=600)
API_RATE_PER_CITIZEN_PER_MINUTE = env.int("API_RATE_PER_CITIZEN_PER_MINUTE", default=60)
# Webhooks: a failed delivery is retried until API_WEBHOOK_RETRY_HORIZON seconds after the event
# was written (72 hours, as notifications), waiting API_WEBHOOK_BACKOFF_SECONDS after the first
# failure, doubling up to API_WEBHOOK_BACKOFF_CAP; then it is failed (admin, sent again by staff).
API_WEBHOOK_RETRY_HORIZON = env.float("API_WEBHOOK_RETRY_HORIZON", default=72 * 3600)
API_WEBHOOK_BACKOFF_SECONDS = env.int("API_WEBHOOK_BACKOFF_SECONDS", default=60)
API_WEBHOOK_BACKOFF_CAP = env.float("API_WEBHOOK_BACKOFF_CAP", default=3600)
API_WEBHOOK_MAX_ATTEMPTS = env.int("API_WEBHOOK_MAX_ATTEMPTS", default=0)  # 0: no limit but the horizon
API_WEBHOOK_STALE_SECONDS = env.int("API_WEBHOOK_STALE_SECONDS", default=300)
API_WEBHOOK_TIMEOUT_SECONDS = env.int("API_WEBHOOK_TIMEOUT_SECONDS", default=10)
# Problem details' "type" URIs are this plus the problem's name (listed in docs/api.md).
API_PROBLEM_TYPE_BASE = env.str("API_PROBLEM_TYPE_BASE",
                                default=f"{ORGANISATION['portal_url'].rstrip('/')}/api/problems/")
# --- end of the channel REST API block ----------------------------------------------------------

# --- Operations: cache, object storage, security behind a proxy, logs, metrics (README "Configuration")
# Cache (rate limits, the foreign-account budget, locks, SSO keys; sessions when SESSION_ENGINE
# says so): CACHE_URL=redis://host:6379/0 shares it between every process. A per-process cache
# (locmem, dummy) with DEBUG=false is a system-check error (core.E001): each process would keep
# its own rate-limit counts.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Fail fast rather than hang a request when Redis is unreachable (seconds).
    _redis_timeout = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("socket_connect_timeout", _redis_timeout)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", _redis_timeout)
CACHES["default"].setdefault("KEY_PREFIX", env.str("CACHE_KEY_PREFIX", default=""))

# Object storage (django-storages, S3-compatible), used when AWS_STORAGE_BUCKET_NAME is set. The
# bucket is private: no ACL is set on objects (they inherit the bucket's private default) and any
# URL is signed; the views hand files out themselves, after the access check.
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None  # e.g. MinIO, Ceph, Yandex
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None  # None: boto3's own chain (IAM role)
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
AWS_SESSION_TOKEN = env.str("AWS_SESSION_TOKEN", default="") or None
AWS_LOCATION = env.str("AWS_LOCATION", default="")  # key prefix inside the bucket
AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="") or None  # "path" for most stand-ins
AWS_S3_SIGNATURE_VERSION = env.str("AWS_S3_SIGNATURE_VERSION", default="s3v4")
AWS_S3_USE_SSL = env.bool("AWS_S3_USE_SSL", default=True)
AWS_S3_VERIFY = env.bool("AWS_S3_VERIFY", default=True)
AWS_S3_FILE_OVERWRITE = env.bool("AWS_S3_FILE_OVERWRITE", default=False)  # as on disk: never replace a file
AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=300)
AWS_DEFAULT_ACL = None  # never public: not configurable on purpose
AWS_QUERYSTRING_AUTH = True

# Behind a TLS-terminating proxy. SECURE_PROXY_SSL_HEADER is "HTTP_X_FORWARDED_PROTO,https".
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if len(_proxy_ssl_header) == 2 else None
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# The probes answer over plain HTTP too (a load balancer's health check need not follow a redirect).
SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[r"^healthz$", r"^readyz$", r"^metrics$"])
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# Request ids and metrics wrap every other middleware: they see every response, even an error.
MIDDLEWARE.insert(0, "core.metrics.MetricsMiddleware")
MIDDLEWARE.insert(0, "core.logging.RequestIdMiddleware")
# The database or Redis unreachable: 503 with Retry-After instead of a 500 (core.middleware).
MIDDLEWARE.append("core.middleware.OutageMiddleware")

# Logs: JSON lines in production (LOG_FORMAT=json, the default unless DEBUG), with the request id,
# the actor's role and the claim number; e-mail addresses, phone numbers and FINs are masked.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING["filters"] = {
    "context": {"()": "core.logging.RequestContextFilter"},
    "redact": {"()": "core.logging.RedactingFilter"},
}
LOGGING["formatters"] = {
    "json": {"()": "core.logging.JsonFormatter"},
    "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
}
LOGGING["handlers"] = {
    "console": {
        "class": "logging.StreamHandler",
        "formatter": "json" if LOG_FORMAT == "json" else "text",
        "filters": ["context", "redact"],
    }
}

# Error tracking (Sentry), only when SENTRY_DSN is set; no personal data is sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core.logging import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# /metrics (Prometheus): allowed with "Authorization: Bearer <METRICS_TOKEN>" or from an address in
# METRICS_ALLOWED_NETWORKS (CIDR list, REMOTE_ADDR as the server sees it); refused otherwise.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
# --- end of operations --------------------------------------------------------------------------

# --- Security (docs/security.md) ---------------------------------------------------------------
from urllib.parse import urlsplit  # noqa: E402

INSTALLED_APPS += ["csp", "django_otp", "django_otp.plugins.otp_totp", "pgtrigger"]


def _after(name: str, *new: str) -> None:
    at = MIDDLEWARE.index(name) + 1
    MIDDLEWARE[at:at] = list(new)


# A body larger than REQUEST_MAX_BYTES is refused (413) from its Content-Length, before it is read.
_after("django.middleware.security.SecurityMiddleware", "core.security.RequestSizeLimitMiddleware",
       "django_permissions_policy.PermissionsPolicyMiddleware", "csp.middleware.CSPMiddleware")
# Every page and API answer may carry personal data: none is kept by a browser or proxy cache
# (static files, served by WhiteNoise before this, keep their long cache).
_after("whitenoise.middleware.WhiteNoiseMiddleware", "core.security.NoStoreMiddleware")
_after("django.contrib.auth.middleware.AuthenticationMiddleware", "django_otp.middleware.OTPMiddleware")
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=40 * 1024 * 1024)  # as nginx client_max_body_size

_sso_origins = sorted({"://".join(urlsplit(u)[:2]) for u in (OIDC_ISSUER, ASAN_LOGIN_URL) if u})
# Content-Security-Policy (django-csp): nothing inline, nothing from elsewhere; frames nowhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],  # blob: the chosen photo's preview before sending
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        # A form's redirect is checked too: logging out may continue at the national SSO.
        "form-action": ["'self'", *_sso_origins],
        "frame-ancestors": ["'none'"],
    },
}
# Permissions-Policy: the service needs none of these browser features.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: [] for feature in ("accelerometer", "camera", "geolocation", "gyroscope", "magnetometer",
                                "microphone", "payment", "usb", "browsing-topics")
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Staff passwords: at least 12 characters, not a common one, not like the username.
# (The list above was inferred as str -> str: its entries had no OPTIONS.)
AUTH_PASSWORD_VALIDATORS[1] = {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
                               "OPTIONS": {"min_length": 12}}  # type: ignore[dict-item]
# Lockout by username (AXES_FAILURE_LIMIT) and, for password spraying, by address
# (AXES_IP_FAILURE_LIMIT: higher, since a branch's staff share one office NAT address).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FAILURE_LIMIT = AXES_FAILURE_LIMIT  # the AXES_FAILURE_LIMIT variable
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=30)
AXES_FAILURE_LIMIT = "identity.lockout.failure_limit"
SILENCED_SYSTEM_CHECKS.remove("axes.W006")

# Second factor (django-otp, TOTP): required for these roles, offered to every staff member.
STAFF_OTP_REQUIRED_ROLES = env.list("STAFF_OTP_REQUIRED_ROLES",
                                    default=["commission_member", "branch_manager", "administrator"])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default=ORGANISATION["name"])
OTP_TOTP_THROTTLE_FACTOR = 1
# Staff sessions end after this many quiet seconds (citizens: SESSION_IDLE_TIMEOUT).
STAFF_SESSION_IDLE_TIMEOUT = env.int("STAFF_SESSION_IDLE_TIMEOUT", default=15 * 60)

# Uploads: optional virus scan of every stored upload (clamd's INSTREAM over TCP or a Unix socket),
# e.g. UPLOAD_SCAN_CLAMD=tcp://127.0.0.1:3310 or unix:///run/clamav/clamd.ctl; empty: no scan.
UPLOAD_SCAN_CLAMD = env.str("UPLOAD_SCAN_CLAMD", default="")
UPLOAD_SCAN_TIMEOUT = env.float("UPLOAD_SCAN_TIMEOUT", default=30.0)
# Photos larger than this many pixels (read from the header, before decoding) are refused.
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=40_000_000)

# Channel API: a citizen assertion's jti is remembered (in the shared cache) until it expires,
# so an assertion is accepted once. Webhook URLs must be https and resolve to public addresses
# (WEBHOOK_ALLOW_PRIVATE_URLS=true only for tests on loopback).
API_CITIZEN_TOKEN_REQUIRE_JTI = env.bool("API_CITIZEN_TOKEN_REQUIRE_JTI", default=True)
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# --- end of security ----------------------------------------------------------------------------
