"""pytest fixtures (a plugin: ``pytest_plugins = ["calendars.sandbox.testing"]``).

``calendar_sandbox``: one sandbox for the session, reset before each test that asks for it.
``calendar_settings``: Dynchat's calendar settings pointed at it, CALENDAR_TIMEOUT_SECONDS = 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from calendars.sandbox.sandbox import CalendarSandbox


@pytest.fixture(scope="session")
def calendar_sandbox_server() -> Iterator[CalendarSandbox]:
    # The sandbox's Google endpoints are plain http on loopback; oauthlib refuses http unless told.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    # A timeout fault holds its answer past CALENDAR_TIMEOUT_SECONDS (1 s in tests).
    sandbox = CalendarSandbox(timeout_hold_seconds=2.5).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def calendar_sandbox(calendar_sandbox_server: CalendarSandbox) -> CalendarSandbox:
    calendar_sandbox_server.reset()
    return calendar_sandbox_server


@pytest.fixture
def calendar_settings(calendar_sandbox: CalendarSandbox, settings: Any) -> dict[str, Any]:
    """Apply the sandbox's settings (pytest-django ``settings``); returns what was applied."""
    applied = {**calendar_sandbox.settings_overrides(), "CALENDAR_TIMEOUT_SECONDS": 1}
    for name, value in applied.items():
        setattr(settings, name, value)
    return applied
