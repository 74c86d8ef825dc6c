"""Settings shared by every environment; deployment values come from the environment."""

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from . import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.boolean("DEBUG", default=False)
SECRET_KEY = env.string("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else None)
ALLOWED_HOSTS = env.csv("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")


def _database(url):
    try:
        config = dj_database_url.parse(url, conn_max_age=0)
    except Exception as exc:  # dj_database_url raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} is not a database URL: {exc}") from exc
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no supported database engine.")
    return config


DATABASES = {"default": _database(env.string("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A transaction that reads and then writes (the sync layer's writes lock their rows
    # first) must take SQLite's write lock at BEGIN: upgrading a read lock later fails at
    # once with "database is locked" when another writer holds it. Waiting writers then
    # queue for up to `timeout` seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TIME_ZONE = env.string("TIME_ZONE", "Europe/London")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from exc
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-gb"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "reversion",
    "core",
    "metadata",
    "adviser",
    "organisation",
    "contact",
    "interaction",
]

MIDDLEWARE = [
    "core.ops.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.WritingRequestUnitMiddleware",
    "reversion.middleware.RevisionMiddleware",
    "core.middleware.ErrorPageMiddleware",
]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# LOG_FORMAT=json: one JSON object per line, with the request id, and one line per CRM request.
LOG_FORMAT = env.choice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.ops.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "core.ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.string("LOG_LEVEL", "INFO").upper()},
    "loggers": {"migrator.crm_requests": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"}},
}


# --- REST API (Django REST framework, django-filter, drf-spectacular) ---------------------
# Every endpoint needs an authenticated user holding the model permission for the method
# (view for reads); exceptions that apps register answers for (the CRM's failures: 502/503/504)
# are answered by core.api.
# Signing in at /api-auth/login/ (the browsable API) without a `next` leads to the API root.
LOGIN_REDIRECT_URL = "api-root"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "core.api_filters.StrictFilterBackend",
        "core.api_filters.BoundedSearchFilter",
        "core.api_filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.AutoSchema",
    # Bodies are JSON only: form encodings cannot say null, a number or a list.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Data Hub API",
    "DESCRIPTION": "Organisations and contacts, kept in sync with the legacy CRM (CDMS).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs pages load Swagger UI and Redoc from local static files, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api_schema.postprocess_schema",
    ],
}


# --- CRM block: the legacy CRM (CDMS). Retiring the CRM deletes this block. ------------------
# The CDMS_* settings' defaults and checks live in migrator/conf.py; environment variables of
# the same names set them (as text, parsed there). See docs/retiring-cdms.md.
INSTALLED_APPS += ["migrator"]
MIDDLEWARE += ["migrator.read.middleware.SyncScopeMiddleware"]
globals().update(env.prefixed("CDMS_"))

# Celery runs the change follower, key sweeps and imports across machines (docs/consistency.md):
# `celery -A settings.celery worker` and `celery -A settings.celery beat`. Tasks are idempotent and
# acknowledged late, so a task of a killed worker is delivered again.
CELERY_BROKER_URL = env.string("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_DEFAULT_QUEUE = env.string("CELERY_TASK_DEFAULT_QUEUE", "datahub")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A message not acknowledged within this many seconds (its worker vanished) is delivered again.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.integer("CELERY_VISIBILITY_TIMEOUT", 900)}
_follow_every = env.number("CDMS_FOLLOW_INTERVAL", 1.0)
_sweep_every = env.number("CDMS_SWEEP_INTERVAL", 300.0)
CELERY_BEAT_SCHEDULE = {
    "follow-cdms-changes": {
        "task": "migrator.tasks.follow_all",
        "schedule": _follow_every,
        "options": {"expires": _follow_every * 2},
    },
    # Sweeps roll: every half minute the parts due again (listed CDMS_SWEEP_INTERVAL ago) are queued.
    "sweep-cdms-keys": {
        "task": "migrator.tasks.sweep_all",
        "schedule": min(_sweep_every, 30.0),
        "options": {"expires": min(_sweep_every, 30.0)},
    },
}
# --- end of the CRM block ---
