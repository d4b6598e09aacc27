"""Test settings: Dynchat's own settings, with only speed and isolation changed."""

from __future__ import annotations

import os
import uuid

os.environ.setdefault("SECRET_KEY", "test-only-" + "x" * 50)
# Tests run with the production security configuration (HSTS, Secure __Host- cookies); only the
# redirect to https is off, because the test client and the live test server speak plain http.
os.environ.setdefault("SITE_URL", "https://testserver")
os.environ["SECURE_SSL_REDIRECT"] = "false"

from dynchat.settings import *  # noqa: F403
from dynchat.settings import CACHES

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Each test run counts its rate limits apart from other runs sharing the Redis server.
CACHES["default"]["KEY_PREFIX"] = f"dynchat-test-{uuid.uuid4().hex[:8]}"
CELERY_TASK_ALWAYS_EAGER = True
# 32 bytes of test key, base64url: "t1" seals every token the tests store.
CALENDAR_TOKEN_KEYS = ["t1:dGVzdC1vbmx5LWNhbGVuZGFyLWtleS0zMi1ieXRlcyE"]
CELERY_TASK_EAGER_PROPAGATES = True
