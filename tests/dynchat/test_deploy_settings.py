"""D-1 and the settings rules: production settings pass `check --deploy`; defaults are safe."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")
DEPLOY_CHECKS = [
    "W001", "W002", "W003", "W004", "W005", "W006", "W008", "W009", "W010", "W011", "W012",
    "W013", "W014", "W015", "W016", "W018", "W019", "W020", "W021", "W022", "E023", "E024",
    "W025", "E026", "W027",
]  # fmt: skip


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "SITE_URL",
            "SECURE_SSL_REDIRECT",
            "ALLOWED_HOSTS",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dynchat.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        SITE_URL="https://chat.example.com",
        # Production sends invitations through a mail server (Django flags the file backend).
        EMAIL_HOST="smtp.example.com",
    )
    env.update(overrides)
    return env


PRINT_SECRET_KEY = (
    "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
)


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_production_settings_pass_the_deploy_checks() -> None:
    """D-1: `check --deploy --fail-level WARNING` with production settings exits 0."""
    result = subprocess.run(
        [sys.executable, MANAGE, "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for check in DEPLOY_CHECKS:
        assert f"security.{check}" not in result.stdout + result.stderr


def test_production_settings_are_the_hardened_ones() -> None:
    """D-1: the required settings, as production reads them."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.CSRF_COOKIE_SECURE, s.X_FRAME_OPTIONS, s.ALLOWED_HOSTS, s.SESSION_COOKIE_NAME)"
    )
    result = run_python(code, production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False", "True", "31536000", "True", "True", "True", "True", "True", "DENY",
        "['chat.example.com']", "__Host-sessionid",
    ]  # fmt: skip


def test_debug_is_off_unless_asked_for() -> None:
    result = run_python(
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        production_env(),
    )
    assert result.stdout.strip() == "False"


def test_a_secret_key_is_required_unless_debugging() -> None:
    env = production_env()
    del env["SECRET_KEY"]
    result = run_python("import django; django.setup()", env)
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_the_secret_key_can_come_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("k" * 60 + "\n")
    env = production_env(SECRET_KEY_FILE=str(key_file))
    del env["SECRET_KEY"]
    result = run_python(
        PRINT_SECRET_KEY,
        env,
    )
    assert result.stdout.strip() == "k" * 60


def test_debugging_without_a_key_keeps_one_under_var(tmp_path: Path) -> None:
    env = production_env(DEBUG="true", DYNCHAT_VAR_DIR=str(tmp_path))
    del env["SECRET_KEY"]
    first = run_python(PRINT_SECRET_KEY, env).stdout.strip()
    assert len(first) >= 50
    assert run_python(PRINT_SECRET_KEY, env).stdout.strip() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("DATABASE_URL", "sqlite:///db.sqlite3", "must point at PostgreSQL"),
        ("SITE_URL", "chat.example.com", "SITE_URL must be an http(s) URL"),
        ("DATABASE_CONN_MAX_AGE", "soon", "must be an integer"),
    ],
)
def test_bad_settings_stop_start_up_with_a_clear_message(
    name: str, value: str, message: str
) -> None:
    result = run_python("import django; django.setup()", production_env(**{name: value}))
    assert result.returncode != 0
    assert message in result.stderr


def test_plain_http_sites_get_cookies_a_browser_accepts_over_http() -> None:
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)",
        production_env(SITE_URL="http://localhost:8000"),
    )
    assert result.stdout.split() == ["dynchat_sessionid", "False", "False"]
