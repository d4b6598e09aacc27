"""Requests and answers as the route handlers see them, and the sandbox's configuration."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from calendars.sandbox.state import State


@dataclass(frozen=True)
class Config:
    google_client_id: str
    google_client_secret: str
    ms_client_id: str
    ms_client_secret: str
    google_base: str = ""  # http://127.0.0.1:P
    microsoft_base: str = ""  # https://127.0.0.1:Q
    tenant_id: str = "9188040d-6c67-4c5b-b112-36a304b66dad"
    timeout_hold_seconds: float = 3.0  # how long a "timeout" fault holds its answer

    @property
    def issuer(self) -> str:
        return f"{self.microsoft_base}/{self.tenant_id}/v2.0"


@dataclass
class App:
    config: Config
    state: State
    stopping: threading.Event = field(default_factory=threading.Event)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    groups: dict[str, str] = field(default_factory=dict)

    @property
    def form(self) -> dict[str, str]:
        """The form body (first value of each field)."""
        if "x-www-form-urlencoded" not in self.headers.get("content-type", ""):
            return {}
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[0] for name, values in parsed.items()}

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def bearer(self) -> str:
        header = self.headers.get("authorization", "")
        return header[7:].strip() if header.lower().startswith("bearer ") else ""

    def basic(self) -> tuple[str, str] | None:
        """The HTTP Basic client credentials, if sent."""
        header = self.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return unquote_plus(user), unquote_plus(password)

    def client_credentials(self) -> tuple[str, str]:
        """Client id and secret from the Basic header, else from the form body."""
        basic = self.basic()
        if basic is not None:
            return basic
        form = self.form
        return form.get("client_id", ""), form.get("client_secret", "")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False  # a "timeout" fault: hold, then drop the connection without answering


def json_response(payload: Any, status: int = 200, **headers: str) -> Response:
    return Response(status, json.dumps(payload).encode(), headers=dict(headers))


def html_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), "text/html; charset=utf-8")


def redirect(location: str) -> Response:
    return Response(302, b"", "text/plain", {"Location": location})
