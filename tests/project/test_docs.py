"""The README's promises stay true: two commands, CI runs the second, every variable documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
README = (ROOT / "README.md").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
READERS = re.compile(r"""(?:env_\w+|os\.environ\.get|environ\.get)\(\s*["']([A-Z][A-Z0-9_]+)["']""")
SKIPPED_DIRECTORIES = {".venv", "var", ".git", "node_modules"}


def first_code_block(markdown: str) -> list[str]:
    block = markdown.split("```", 2)[1]
    return [line for line in block.splitlines()[1:] if line.strip()]


def python_sources() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED_DIRECTORIES & set(path.relative_to(ROOT).parts)
    ]


def variables_read() -> set[str]:
    """Every environment variable any of our Python files reads."""
    names = set()
    for source in python_sources():
        names |= set(READERS.findall(source.read_text()))
    names.discard("DJANGO_SETTINGS_MODULE")
    names.discard("DJANGO_ALLOW_ASYNC_UNSAFE")
    return names


def test_the_readme_starts_with_exactly_two_commands() -> None:
    assert first_code_block(README) == ["python3 manage.py run", "python3 manage.py test"]


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci/run").read_text()
    assert first_code_block(README)[1] in ci.splitlines()


def test_the_variables_are_found() -> None:
    assert {"SECRET_KEY", "SITE_URL", "DATABASE_URL", "PORT", "CHROMIUM_PATH"} <= variables_read()


@pytest.mark.parametrize("name", sorted(variables_read()))
def test_every_variable_is_documented_in_env_example(name: str) -> None:
    assert re.search(rf"^#? ?{name}=", ENV_EXAMPLE, re.MULTILINE), (
        f"{name} is missing from .env.example"
    )


@pytest.mark.parametrize("name", sorted(variables_read()))
def test_every_variable_is_in_the_readme_table(name: str) -> None:
    rows = [line for line in README.splitlines() if line.startswith("| `")]
    assert any(f"`{name}`" in row for row in rows), f"{name} is missing from the README table"


def test_the_compose_file_passes_the_products_variables_through() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    product = variables_read() - {
        "DYNCHAT_VAR_DIR", "DYNCHAT_VENV", "DYNCHAT_POSTGRES_USER", "DEMO_HOST_PORT",
        "CHROMIUM_PATH", "CI", "SECRET_KEY_FILE", "STATIC_ROOT",
    }  # fmt: skip
    missing = [name for name in sorted(product) if f"{name}:" not in compose]
    assert missing == []
