"""What a handler receives (``Call``) and what it answers (``Envelope``, ``Text``, ``FileBody``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.sandbox.bulk import Exports
from sync.sandbox.clock import Clock
from sync.sandbox.errors import ApiError
from sync.sandbox.gate import Gate
from sync.sandbox.world import World

MAX_BATCH_SIZE = 300


@dataclass
class App:
    """The parts of a running sandbox that handlers use."""

    world: World
    exports: Exports
    gate: Gate
    clock: Clock


@dataclass
class Call:
    app: App
    method: str
    path: str
    params: dict[str, list[str]]
    body: bytes
    content_type: str
    client_id: str
    groups: dict[str, str]
    number: int
    headers: dict[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values and values[0] != "" else None

    def required(self, name: str) -> str:
        value = self.param(name)
        if value is None:
            raise ApiError("701", f"{name} cannot be blank")
        return value

    def list_param(self, name: str) -> list[str]:
        """Comma-separated values, also given as repeated parameters."""
        return [v.strip() for raw in self.params.get(name, []) for v in raw.split(",") if v.strip()]

    def int_list(self, name: str) -> list[int]:
        values = self.list_param(name)
        if not all(v.lstrip("-").isdigit() for v in values):
            raise ApiError("1003", f"Invalid value for {name}")
        return [int(v) for v in values]

    def batch_size(self) -> int:
        raw = self.param("batchSize")
        if raw is None:
            return MAX_BATCH_SIZE
        if not raw.isdigit() or int(raw) < 1:
            raise ApiError("1003", f"Invalid batchSize '{raw}'")
        return min(MAX_BATCH_SIZE, int(raw))

    def json(self) -> dict[str, Any]:
        if "application/json" not in self.content_type:
            raise ApiError("612")
        try:
            body = json.loads(self.body or b"")
        except (ValueError, UnicodeDecodeError):
            raise ApiError("609") from None
        if not isinstance(body, dict):
            raise ApiError("609", "Invalid JSON: the body must be an object")
        return body

    def number_group(self, name: str) -> int:
        value = self.groups[name]
        if not value.isdigit():
            raise ApiError("1003", f"Invalid {name} '{value}'")
        return int(value)


@dataclass
class Envelope:
    """Marketo's JSON envelope; ``result=None`` leaves the member out (paging token calls)."""

    result: list[Any] | None = field(default_factory=list)
    more_result: bool | None = None
    next_page_token: str | None = None
    warnings: list[Any] | None = None  # [] is sent as such (Push Lead does)


@dataclass
class Text:
    status: int
    text: str


@dataclass
class FileBody:
    path: Path
    size: int
    job_id: str


Reply = Envelope | Text | FileBody
