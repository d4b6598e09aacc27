"""``CalendarSandbox``: Google and Microsoft stand-ins on 127.0.0.1 for tests and the demo."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from calendars.sandbox.control import issue_tokens
from calendars.sandbox.http import App, Config
from calendars.sandbox.server import Listener
from calendars.sandbox.state import State
from calendars.sandbox.tls import mint

DEFAULTS = {
    "google_client_id": "sandbox-google-client",
    "google_client_secret": "sandbox-google-secret",  # a local test server's default
    "ms_client_id": "sandbox-ms-client",
    "ms_client_secret": "sandbox-ms-secret",  # a local test server's default
}


class CalendarSandbox:
    """Google OAuth + Calendar v3 over http, Entra ID + Graph over https (certificate minted at
    start, trusted through ``ca_file``), one shared state. Control it with the methods below or
    over HTTP under ``/_sandbox/`` on the plain listener (see ``calendars.sandbox.control``).
    """

    def __init__(
        self,
        *,
        state_dir: str | Path | None = None,
        google_client_id: str = DEFAULTS["google_client_id"],
        google_client_secret: str = DEFAULTS["google_client_secret"],
        ms_client_id: str = DEFAULTS["ms_client_id"],
        ms_client_secret: str = DEFAULTS["ms_client_secret"],
        timeout_hold_seconds: float = 3.0,
    ) -> None:
        if not all((google_client_id, google_client_secret, ms_client_id, ms_client_secret)):
            raise ValueError("client ids and secrets must not be empty")
        self._temporary = state_dir is None
        self.state_dir = Path(
            tempfile.mkdtemp(prefix="calendar-sandbox-") if state_dir is None else state_dir
        )
        self._config = Config(
            google_client_id,
            google_client_secret,
            ms_client_id,
            ms_client_secret,
            timeout_hold_seconds=timeout_hold_seconds,
        )
        self.state = State()
        self._listeners: list[Listener] = []
        self._threads: list[threading.Thread] = []
        self.app: App | None = None

    # Running

    def start(self, host: str = "127.0.0.1", port: int = 0, tls_port: int = 0) -> CalendarSandbox:
        """Listen on ``port`` (http) and ``tls_port`` (https); 0 picks free ports."""
        if self._listeners:
            raise RuntimeError("the calendar sandbox is already running")
        certificates = mint(self.state_dir)
        self.ca_file = str(certificates.ca_file)
        app = App(self._config, self.state)
        plain = Listener((host, port), app)
        secure = Listener((host, tls_port), app, certificates.server_context())
        self._listeners = [plain, secure]
        self.google_base = f"http://{host}:{plain.server_address[1]}"
        self.microsoft_base = f"https://{host}:{secure.server_address[1]}"
        app.config = dataclasses.replace(
            self._config, google_base=self.google_base, microsoft_base=self.microsoft_base
        )
        self.app = app
        for listener, name in ((plain, "http"), (secure, "https")):
            thread = threading.Thread(
                target=listener.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"calendar-sandbox-{name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        if self.app is not None:
            self.app.stopping.set()
        for listener in self._listeners:
            listener.shutdown()
            listener.server_close()
            listener.close_connections()
        for thread in self._threads:
            thread.join(timeout=10)
        self._listeners, self._threads = [], []
        if self._temporary:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> CalendarSandbox:
        if not self._listeners:
            self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # What Dynchat is configured with

    @property
    def config(self) -> Config:
        if self.app is None:
            raise RuntimeError("the calendar sandbox is not running")
        return self.app.config

    def settings_overrides(self) -> dict[str, Any]:
        config = self.config
        return {
            "GOOGLE_CLIENT_ID": config.google_client_id,
            "GOOGLE_CLIENT_SECRET": config.google_client_secret,
            "GOOGLE_AUTH_URI": f"{self.google_base}/o/oauth2/v2/auth",
            "GOOGLE_TOKEN_URI": f"{self.google_base}/token",
            "GOOGLE_REVOKE_URI": f"{self.google_base}/revoke",
            "GOOGLE_CALENDAR_ROOT_URL": f"{self.google_base}/",
            "MS_CLIENT_ID": config.ms_client_id,
            "MS_CLIENT_SECRET": config.ms_client_secret,
            "MS_AUTHORITY": f"{self.microsoft_base}/common",
            "GRAPH_BASE_URL": f"{self.microsoft_base}/v1.0",
            "MS_CA_BUNDLE": self.ca_file,
        }

    # Scripting

    def reset(self) -> None:
        """Forget every token, code, busy time, event, fault and count; consent page on."""
        self.state.reset()

    def issue_tokens(self, provider: str, email: str, *, expires_in: int = 3600) -> dict[str, Any]:
        """A grant as if ``email`` had consented: access_token, refresh_token, expires_in."""
        if self.app is None:
            raise RuntimeError("the calendar sandbox is not running")
        return issue_tokens(self.app, provider, email, expires_in)

    def set_busy(self, email: str, intervals: list[tuple[datetime, datetime]]) -> None:
        """Replace the account's busy times (aware datetimes)."""
        self.state.set_busy(email, intervals)

    def add_busy(self, email: str, start: datetime, end: datetime) -> None:
        self.state.add_busy(email, start, end)

    def events_are_busy(self, on: bool = True) -> None:
        """Make created events count as busy time, as in a real calendar (off after reset)."""
        with self.state.lock:
            self.state.events_busy = on

    def revoke(self, email: str) -> None:
        """Every token of that account is refused from now on (invalid_grant / 401)."""
        self.state.revoke(email)

    def fault(self, endpoint: str, kind: str, times: int = 1) -> None:
        """The next ``times`` calls to ``endpoint`` fail with ``kind``: invalid_grant, 500, 503,
        or timeout (the answer is held ``timeout_hold_seconds``, then the connection dropped)."""
        self.state.add_fault(endpoint, kind, times)

    def calls(self, endpoint: str) -> int:
        """How many requests reached ``endpoint`` (faulted ones included)."""
        return self.state.count(endpoint)

    def events(self, email: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """The account's events (deleted ones only when asked), oldest first: id, start, end,
        attendees, summary, join_url, send_updates, status, …"""
        return [e.public() for e in self.state.list_events(email, include_deleted=include_deleted)]

    def auto_consent(self, email: str | None) -> None:
        """Authorize at once as ``email``; None shows the consent page (e-mail + "Allow")."""
        with self.state.lock:
            self.state.consent_as = email.lower() if email else None
