"""Fixtures shared by every test: people by role, signed-in clients, a site."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from dynchat.models import Role, Site, User
from tests.browser import INSTALL_HINT, chromium_path, in_ci
from tests.worker import celery_worker  # noqa: F401

pytest_plugins = ["calendars.sandbox.testing"]

ALLOWED_ORIGIN = "https://a.example"
BROWSER_NOTE = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium (and outside CI), leave the browser tests out and say so once."""
    browser_tests = [item for item in items if item.get_closest_marker("browser")]
    if not browser_tests or chromium_path() is not None or in_ci():
        return
    items[:] = [item for item in items if not item.get_closest_marker("browser")]
    config.hook.pytest_deselected(items=browser_tests)
    config.stash[BROWSER_NOTE] = f"SKIPPED {len(browser_tests)} browser tests: {INSTALL_HINT}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if note := config.stash.get(BROWSER_NOTE, None):
        terminalreporter.write_line(note, yellow=True)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Each test counts rate limits from zero, without flushing a Redis others may share."""
    caches = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"t-{uuid.uuid4().hex}"}}
    with override_settings(CACHES=caches):
        yield


class HttpsClient(Client):
    """A test client whose requests all arrive over https, as in production."""

    def generic(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


def https_client() -> Client:
    return HttpsClient()


@pytest.fixture
def marketer(db: None) -> User:
    return User.objects.create_user(
        "maya@example.com", "correct horse battery", name="Maya Marketer", role=Role.MARKETER
    )


@pytest.fixture
def agent(db: None) -> User:
    return User.objects.create_user(
        "alex@example.com", "correct horse battery", name="Alex Agent", role=Role.AGENT
    )


@pytest.fixture
def marketer_client(marketer: User) -> Client:
    client = Client()
    client.force_login(marketer)
    return client


@pytest.fixture
def agent_client(agent: User) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def site(db: None) -> Site:
    return Site.objects.create(name="Site A", allowed_origins=[ALLOWED_ORIGIN])


@pytest.fixture
def marketo_on() -> Iterator[None]:
    """Marketo configured, at an address nobody answers: these pages must not call it."""
    with override_settings(
        MARKETO_ENABLED=True,
        MARKETO_BASE_URL="http://127.0.0.1:9",
        MARKETO_CLIENT_ID="id",
        MARKETO_CLIENT_SECRET="secret",
    ):
        yield
