"""Fixtures for the Marketo sync: a Marketo sandbox on a free port, and settings pointing at it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from django.test import override_settings

from sync.sandbox import MarketoSandbox
from tests.sync.clients import connect  # noqa: F401  (clients whose sleeps pass at once)
from tests.sync.syncing import sync_bench  # noqa: F401  (the sync in real workers)


@pytest.fixture
def marketo_sandbox() -> Iterator[Callable[..., MarketoSandbox]]:
    """Start sandboxes with ``marketo_sandbox(**MarketoSandbox kwargs)``; all stop at teardown.

    Unless given, ``status_interval`` is 0.05 s, so export jobs move on at once.
    """
    started: list[MarketoSandbox] = []

    def start(**kwargs: Any) -> MarketoSandbox:
        kwargs.setdefault("status_interval", 0.05)
        sandbox = MarketoSandbox(**kwargs).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def marketo_settings() -> Callable[[MarketoSandbox], override_settings]:
    """``with marketo_settings(sandbox):`` Dynchat's Marketo settings name that sandbox."""

    def configure(sandbox: MarketoSandbox) -> override_settings:
        return override_settings(
            MARKETO_BASE_URL=sandbox.base_url,
            MARKETO_ENABLED=True,
            MARKETO_CLIENT_ID=sandbox.client_id,
            MARKETO_CLIENT_SECRET=sandbox.client_secret,
        )

    return configure


class Api:
    """A bare Marketo API caller for the sandbox's own tests: a token, a session, no retries."""

    def __init__(self, sandbox: MarketoSandbox, client_id: str = "", secret: str = "") -> None:
        self.sandbox, self.base = sandbox, sandbox.base_url
        self.client_id = client_id or sandbox.client_id
        self.secret = secret or sandbox.client_secret
        self.session = requests.Session()
        self.token = ""

    def identity(self, client_id: str | None = None, secret: str | None = None) -> Any:
        return self.session.get(
            self.base + "/identity/oauth/token",
            params={
                "grant_type": "client_credentials",
                "client_id": self.client_id if client_id is None else client_id,
                "client_secret": self.secret if secret is None else secret,
            },
            timeout=10,
        )

    def authenticate(self) -> Api:
        response = self.identity()
        response.raise_for_status()
        self.token = response.json()["access_token"]
        return self

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base + path, headers=headers, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        return self.raw("GET", path, params=params).json()

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.raw("POST", path, json=body, params=params).json()

    def export(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create, enqueue and wait for an export job; its final status."""
        created = self.post(f"/bulk/v1/{kind}/export/create.json", body)
        assert created["success"], created
        export_id = created["result"][0]["exportId"]
        enqueued = self.post(f"/bulk/v1/{kind}/export/{export_id}/enqueue.json")
        assert enqueued["success"], enqueued
        return self.wait(kind, export_id)

    def wait(self, kind: str, export_id: str, until: tuple[str, ...] = ()) -> dict[str, Any]:
        final = until or ("Completed", "Failed", "Cancelled")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status: dict[str, Any] = self.get(f"/bulk/v1/{kind}/export/{export_id}/status.json")
            assert status["success"], status
            job: dict[str, Any] = status["result"][0]
            if job["status"] in final:
                return job
            time.sleep(0.02)
        raise AssertionError(f"export {export_id} never reached {final}")


@pytest.fixture
def marketo_api() -> Callable[[MarketoSandbox], Api]:
    """``marketo_api(sandbox)``: an authenticated bare API caller."""
    return lambda sandbox: Api(sandbox).authenticate()
