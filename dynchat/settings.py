"""Dynchat settings: one module, every deploy-specific value from the environment.

Every variable read here is documented in ``.env.example`` and in the README's table. Defaults are
the safe ones: DEBUG off, HTTPS hardening on whenever ``SITE_URL`` is https.
"""

from __future__ import annotations

import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from dynchat.env import env_bool, env_int, env_list, env_list_secret, env_secret, env_str
from dynchat.keyfile import read_or_create_key

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = env_bool("DEBUG", False)
VAR_DIR = Path(env_str("DYNCHAT_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set unless DEBUG is on; "
            "`python3 manage.py run` creates one under var/."
        )
    SECRET_KEY = read_or_create_key(VAR_DIR / "secret_key")

# The public address of this Dynchat: the admin, the widget API and the widget script live here.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) URL, not {SITE_URL!r}")
HTTPS = _site.scheme == "https"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [_site.hostname, *(["localhost", "127.0.0.1"] if DEBUG else [])]
)
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

# Behind N reverse proxies that set X-Forwarded-For / X-Forwarded-Proto; 0 means none.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "dynchat",
    "widget",
    "dialogues",
    "routing",
    "meetings",
    "calendars",
    "sync",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dynchat.middleware.api_errors",
    "dynchat.middleware.request_body_limit",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dynchat.middleware.user_time_zone",
    "dynchat.middleware.private_pages",
    # Last, as its documentation asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dynchat.urls"
WSGI_APPLICATION = "dynchat.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dynchat.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgresql://localhost:5432/dynchat"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL: Dynchat uses nothing else.")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://localhost:6379/0")
# Every Redis client of the web and worker processes (the cache, rate limits, delivery counts):
# RESP2, the protocol every supported server speaks, without the RESP3 connect handshakes of
# redis-py 8 (a fresh connection failed with EBADF in them under 200 concurrent bookings), and
# timeouts, so an unreachable Redis fails a request within seconds instead of hanging a thread.
REDIS_OPTIONS: dict[str, Any] = {
    "protocol": 2,
    "socket_connect_timeout": 5,
    "socket_timeout": 5,
    "health_check_interval": 30,
}
CACHES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "dynchat",
        "OPTIONS": REDIS_OPTIONS,
    }
}

AUTH_USER_MODEL = "dynchat.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "dynchat:login"
LOGIN_REDIRECT_URL = "dynchat:home"
LOGOUT_REDIRECT_URL = "dynchat:login"

# Login throttling: 10 failures for one account within 15 minutes lock that account for the rest
# of those 15 minutes, from every address. Failures during the lockout do not extend it, so an
# attacker cannot keep the real user out for longer than the cool-off.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "dynchat.http.client_ip"
AXES_USERNAME_CALLABLE = "dynchat.http.login_username"
# The login form's field is "username" (Django's AuthenticationForm) although the user model's
# USERNAME_FIELD is "email"; axes must read the same key when counting and when checking.
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "dynchat.views.account.locked_out"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
SILENCED_SYSTEM_CHECKS = [
    # axes.W006 asks to lock out by address too. Lockout here is per account on purpose (ASVS
    # 6.3.1); per-address throttling of sign-ins is the "login" rate limit below.
    "axes.W006",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

# Security headers. HTTPS hardening follows SITE_URL; SECURE_SSL_REDIRECT may be turned off when a
# proxy in front already redirects http to https.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# The __Host- prefix pins a cookie to this host, path / and https; plain http (the local demo)
# cannot carry it.
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "dynchat_sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "dynchat_csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Request limits. Widget API bodies over WIDGET_MAX_BODY_BYTES are refused with 413 before parsing;
# Django's own limit bounds everything else.
WIDGET_MAX_BODY_BYTES = 16 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# Rate limits per scope, "count/period" with period s, m, h or d, optionally multiplied ("15m").
# RATELIMITS overrides single scopes: RATELIMITS="widget-decide=1000/m,login=100/15m".
RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
RATELIMITS = {
    "widget-decide": "200/h",
    "widget-version": "200/h",
    # The chat frame's document (once per page view that opens chat) and the OpenAPI document.
    "widget-document": "600/h",
    # Per (client address, site key); e-mail captures also per (e-mail, site key).
    "widget-conversation": "30/m",
    "widget-events": "60/m",
    "widget-lead": "10/h",
    "widget-lead-email": "3/d",
    "login": "50/15m",
    # Booking, per (client address, site key); visitors' cancel/reschedule pages per address.
    "widget-slots": "60/m",
    "widget-booking": "10/m",
    "meeting-manage": "30/h",
    **dict(item.split("=", 1) for item in env_list("RATELIMITS", [])),
}

# Marketo (sync/). Off until MARKETO_BASE_URL is set; `manage.py run` points it at the bundled
# Marketo sandbox. The REST endpoint looks like https://284-RPR-133.mktorest.com.
MARKETO_BASE_URL = env_str("MARKETO_BASE_URL").rstrip("/")
MARKETO_ENABLED = bool(MARKETO_BASE_URL)
MARKETO_CLIENT_ID = env_str("MARKETO_CLIENT_ID")
MARKETO_CLIENT_SECRET = env_secret("MARKETO_CLIENT_SECRET")
if MARKETO_ENABLED and not (MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET):
    raise ImproperlyConfigured("MARKETO_BASE_URL needs MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET")
# Our share of the instance's limits (100 calls / 20 s and 10 concurrent, shared by every
# integration): 80 % by default, counted across all Dynchat processes in Redis.
MARKETO_MAX_CALLS_PER_20S = env_int("MARKETO_MAX_CALLS_PER_20S", 80)
MARKETO_MAX_CONCURRENT = env_int("MARKETO_MAX_CONCURRENT", 8)
# Seconds to wait for one HTTP response (Marketo's own server-side limit is 30-300 s).
MARKETO_TIMEOUT_SECONDS = env_int("MARKETO_TIMEOUT_SECONDS", 120)
# Bulk export job status changes at most once a minute; polling faster only spends quota.
MARKETO_BULK_POLL_SECONDS = env_int("MARKETO_BULK_POLL_SECONDS", 60)
# Incremental sync cadence (changed leads, new activities, company changes).
MARKETO_SYNC_INTERVAL_SECONDS = env_int("MARKETO_SYNC_INTERVAL_SECONDS", 300)
# Where bulk export files are kept between download and load (deleted once loaded).
MARKETO_EXPORT_DIR = Path(env_str("MARKETO_EXPORT_DIR", str(VAR_DIR / "marketo")))
# Write-back (outbox): the program captured leads are pushed to, and the source Marketo shows.
MARKETO_PUSH_PROGRAM = env_str("MARKETO_PUSH_PROGRAM", "Dynchat")
MARKETO_PUSH_SOURCE = env_str("MARKETO_PUSH_SOURCE", "Dynchat")

# E-mail (invitations, reconnect notices). Without EMAIL_HOST, messages are written as files
# under var/mail so the demo shows what visitors and agents would receive.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Dynchat <no-reply@localhost>")
_EMAIL_HOST = env_str("EMAIL_HOST")
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_secret("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
            },
        }
        if _EMAIL_HOST
        else {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    )
}

# Calendars (calendars/). Provider endpoints are settings so the bundled sandboxes (or a proxy)
# can stand in; `manage.py run` points them at the sandboxes unless GOOGLE_CLIENT_ID is set.
GOOGLE_CLIENT_ID = env_str("GOOGLE_CLIENT_ID")
GOOGLE_CLIENT_SECRET = env_secret("GOOGLE_CLIENT_SECRET")
GOOGLE_AUTH_URI = env_str("GOOGLE_AUTH_URI", "https://accounts.google.com/o/oauth2/v2/auth")
GOOGLE_TOKEN_URI = env_str("GOOGLE_TOKEN_URI", "https://oauth2.googleapis.com/token")
GOOGLE_REVOKE_URI = env_str("GOOGLE_REVOKE_URI", "https://oauth2.googleapis.com/revoke")
# google-api-python-client's root URL for Calendar v3 (ends with a slash).
GOOGLE_CALENDAR_ROOT_URL = env_str("GOOGLE_CALENDAR_ROOT_URL", "https://www.googleapis.com/")
MS_CLIENT_ID = env_str("MS_CLIENT_ID")
MS_CLIENT_SECRET = env_secret("MS_CLIENT_SECRET")
MS_AUTHORITY = env_str("MS_AUTHORITY", "https://login.microsoftonline.com/common").rstrip("/")
GRAPH_BASE_URL = env_str("GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0").rstrip("/")
# A CA bundle to trust for the Microsoft endpoints (the sandbox's own certificate); empty: system.
MS_CA_BUNDLE = env_str("MS_CA_BUNDLE")
CALENDAR_TIMEOUT_SECONDS = env_int("CALENDAR_TIMEOUT_SECONDS", 10)
CALENDAR_BUSY_CACHE_SECONDS = env_int("CALENDAR_BUSY_CACHE_SECONDS", 120)
# Keys that seal calendar tokens: "version:base64key" pairs, newest first; never SECRET_KEY.
# CALENDAR_TOKEN_KEYS_FILE may name a file holding them (`manage.py run` creates one under var/);
# rotate with `manage.py rotate_calendar_keys`.
CALENDAR_TOKEN_KEYS = env_list_secret("CALENDAR_TOKEN_KEYS")
if not CALENDAR_TOKEN_KEYS and DEBUG:
    CALENDAR_TOKEN_KEYS = ["k1:" + read_or_create_key(VAR_DIR / "calendar_token_key", 32)]
BOOKING_HOLD_SECONDS = env_int("BOOKING_HOLD_SECONDS", 300)

# Celery: reliability first (DESIGN §4). Tasks set their own time limits; the visibility timeout
# stays above twice the longest of them, so a slow task is never delivered twice.
CELERY_BROKER_URL = REDIS_URL
# Kombu's Redis transport, made crash-safe: a message moves to "unacked" in the same step that
# takes it off the queue, and a rejected one goes back to the head (dynchat/broker.py).
CELERY_BROKER_TRANSPORT = "dynchat.broker:Transport"
# With its own transport Kombu does not turn TLS on from a rediss:// URL by itself.
CELERY_BROKER_USE_SSL = (
    {"ssl_cert_reqs": ssl.CERT_REQUIRED} if REDIS_URL.startswith("rediss://") else None
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 270
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 15.0
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 30)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "dynchat.record_heartbeat", "schedule": float(HEARTBEAT_SECONDS)},
    "marketo-incremental-sync": {
        "task": "sync.start_incremental_sync",
        "schedule": float(MARKETO_SYNC_INTERVAL_SECONDS),
    },
    # Resumes sync runs whose worker died or whose daily-quota pause has ended.
    "marketo-resume-runs": {"task": "sync.resume_runs", "schedule": 15.0},
    "marketo-drain-outbox": {"task": "sync.drain_outbox", "schedule": 30.0},
    # Idempotency keys of finished tasks are kept a week (a redelivery comes within hours).
    "prune-claims": {"task": "dynchat.prune_claims", "schedule": 86400.0},
    # Meetings whose end has passed become completed (unless marked no-show); holds expire.
    "meetings-roll-over": {"task": "meetings.roll_over", "schedule": 300.0},
    # Conversation events older than 90 days are deleted (dialogues/retention.py).
    "reports-purge": {"task": "dialogues.purge_expired", "schedule": 86400.0},
}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "axes": {"level": "INFO"},
        "axes.apps": {"level": "WARNING"},
        "dynchat.security": {"level": "INFO"},
    },
}

# Lead capture guard (dialogues/guard.py)
# A capture sooner than LEAD_GUARD_MIN_SECONDS after the conversation started is a bot's, and is
# dropped; beyond LEAD_BURST_LIMIT captures per site within LEAD_BURST_WINDOW_SECONDS, leads are
# quarantined (not sent to Marketo) and the site's marketers alerted.
LEAD_GUARD_MIN_SECONDS = 1.5
LEAD_BURST_LIMIT = 200
LEAD_BURST_WINDOW_SECONDS = 600
