"""docker-compose.yml is accepted by `docker compose config` (or by docker-compose)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml
from django.conf import settings


def compose() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.fixture
def compose_command() -> list[str]:
    command = compose()
    if command is None:
        message = "docker compose (or docker-compose) is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return command


def run(command: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SECRET_KEY": "s" * 50, "SITE_URL": "https://chat.example.com"}
    return subprocess.run(
        [*command, "-f", "docker-compose.yml", *args],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True,
    )  # fmt: skip


def test_compose_accepts_the_file(compose_command: list[str]) -> None:
    result = run(compose_command, "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_runs_web_worker_beat_postgres_and_redis(compose_command: list[str]) -> None:
    services = set(run(compose_command, "config", "--services").stdout.split())
    assert {"web", "worker", "beat", "postgres", "redis", "migrate"} == services


def test_web_worker_and_beat_share_one_environment(compose_command: list[str]) -> None:
    services = yaml.safe_load(run(compose_command, "config").stdout)["services"]
    environments = [services[name]["environment"] for name in ("web", "worker", "beat", "migrate")]
    shared = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SITE_URL", "ALLOWED_HOSTS"}
    for environment in environments:
        assert shared <= set(environment)
        assert {key: environment[key] for key in shared} == {
            key: environments[0][key] for key in shared
        }
    assert environments[0]["SITE_URL"] == "https://chat.example.com"
    assert environments[0]["REDIS_URL"] == "redis://redis:6379/0"


def test_the_app_waits_for_healthy_servers_and_finished_migrations(
    compose_command: list[str],
) -> None:
    services = yaml.safe_load(run(compose_command, "config").stdout)["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
