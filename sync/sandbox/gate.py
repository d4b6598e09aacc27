"""Everything between a request and its handler: access tokens, limits, faults and counting."""

from __future__ import annotations

import copy
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from sync.sandbox.clock import Clock, quota_day
from sync.sandbox.config import (
    DOWNLOAD_FAULT,
    JOB_FAULTS,
    MESSAGES,
    UNCOUNTED_CODES,
    Fault,
    Limits,
    SandboxStats,
)
from sync.sandbox.errors import ApiError


@dataclass
class _Armed:
    fault: Fault
    remaining: int


class Gate:
    def __init__(
        self, limits: Limits, clock: Clock, clients: dict[str, str], competing: int, scope: str
    ) -> None:
        self.limits, self.clock, self.clients = limits, clock, clients
        self.competing, self.scope = competing, scope
        self.lock = threading.Lock()
        self.stats = SandboxStats()
        self._window: deque[float] = deque()  # counted calls, for the rate limit
        self._stats_window: deque[float] = deque()  # the same since the last reset_stats
        self.in_flight = 0
        self.day = quota_day(clock.now())
        self.daily_calls = 0
        self.export_bytes_today = 0
        self._faults: list[_Armed] = []
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (client id, expires at)
        self._current: dict[str, str] = {}  # client id -> its token

    # Identity

    def issue_token(self, client_id: str, secret: str) -> dict[str, Any] | None:
        """The client's token (the same one until it expires), or None for bad credentials."""
        with self.lock:
            now = self.clock.now()
            self.stats.identity_calls += 1
            self.stats.identity_call_times.append(now)
            if self.clients.get(client_id) != secret or not client_id:
                self._error("HTTP 401")
                return None
            token = self._current.get(client_id)
            if token is None or self._tokens[token][1] <= now:
                token = f"{uuid.uuid4()}:ab"
                self._tokens[token] = (client_id, now + self.limits.token_ttl)
                self._current[client_id] = token
            expires_in = int(self._tokens[token][1] - now)
            return {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": expires_in,
                "scope": self.scope,
            }

    def client_for(self, token: str | None) -> str:
        """The client id an access token belongs to; 601 unknown, 602 expired."""
        with self.lock:
            entry = self._tokens.get(token or "")
            if entry is None:
                raise ApiError("601")
            if entry[1] <= self.clock.now():
                raise ApiError("602")
            return entry[0]

    # One request's life

    def begin(self) -> int:
        """A request arrived (identity aside): its number, 1-based."""
        with self.lock:
            self.in_flight += 1
            self.stats.requests += 1
            self.stats.max_concurrent = max(self.stats.max_concurrent, self.in_flight)
            return self.stats.requests

    def end(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def admit(self, route: str, fault_code: str | None = None) -> ApiError | None:
        """Count a call and apply the limits; the error to answer instead of the work, if any.

        ``fault_code``: a scripted error this call is answered with (counted unless it is one
        of Marketo's uncounted codes).
        """
        with self.lock:
            now = self.clock.now()
            if fault_code in UNCOUNTED_CODES:
                return None
            self._roll_day(now)
            refusal = None if fault_code else self._refusal(now)
            self._count(route, now)
            return refusal

    def _refusal(self, now: float) -> ApiError | None:
        limits = self.limits
        if limits.concurrency is not None and self.in_flight > limits.concurrency:
            return ApiError("615")
        window = self._window
        while window and window[0] <= now - limits.window_seconds:
            window.popleft()
        if (
            limits.calls_per_window is not None
            and len(window) + self.competing >= limits.calls_per_window
        ):
            message = MESSAGES["606"].format(
                limit=limits.calls_per_window, window=f"{limits.window_seconds:g}"
            )
            return ApiError("606", message)
        if limits.daily_quota is not None and self.daily_calls >= limits.daily_quota:
            return ApiError("607")
        return None

    def _count(self, route: str, now: float) -> None:
        self._window.append(now)
        self.daily_calls += 1
        stats, window = self.stats, self._stats_window
        stats.calls += 1
        stats.call_times.append(now)
        stats.calls_by_path[route] = stats.calls_by_path.get(route, 0) + 1
        window.append(now)
        while window and window[0] <= now - self.limits.window_seconds:
            window.popleft()
        stats.max_calls_in_window = max(stats.max_calls_in_window, len(window))

    def error(self, code: str) -> None:
        with self.lock:
            self._error(code)

    def _error(self, code: str) -> None:
        self.stats.errors_by_code[code] = self.stats.errors_by_code.get(code, 0) + 1

    # Quotas that reset at midnight US Central

    def _roll_day(self, now: float) -> None:
        day = quota_day(now)
        if day != self.day:
            self.day, self.daily_calls, self.export_bytes_today = day, 0, 0

    def reset_daily_quota(self) -> None:
        with self.lock:
            self.day = quota_day(self.clock.now())
            self.daily_calls = self.export_bytes_today = 0

    def export_quota_used_up(self) -> bool:
        with self.lock:
            self._roll_day(self.clock.now())
            limit = self.limits.export_daily_bytes
            return limit is not None and self.export_bytes_today >= limit

    def exported(self, size: int) -> None:
        with self.lock:
            self._roll_day(self.clock.now())
            self.export_bytes_today += size
            self.stats.bytes_exported += size
            self.stats.exports_completed += 1

    def note(self, name: str, amount: int = 1, key: str | None = None) -> None:
        """Add to a counter of the stats (``key``: one entry of a dict counter)."""
        with self.lock:
            if key is None:
                setattr(self.stats, name, getattr(self.stats, name) + amount)
            else:
                counter = getattr(self.stats, name)
                counter[key] = counter.get(key, 0) + amount

    # Faults

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self._faults.append(_Armed(fault, fault.times))

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def take_fault(self, kind: str, number: int, path: str) -> Fault | None:
        """The first armed fault of ``kind`` ("request", "download", "job") this request meets."""
        with self.lock:
            for armed in self._faults:
                code = armed.fault.code
                fault_kind = (
                    "job"
                    if code in JOB_FAULTS
                    else "download"
                    if code == DOWNLOAD_FAULT
                    else "request"
                )
                if fault_kind == kind and armed.fault.matches(number, path):
                    armed.remaining -= 1
                    if armed.remaining <= 0:
                        self._faults.remove(armed)
                    return armed.fault
            return None

    @property
    def request_count(self) -> int:
        with self.lock:
            return self.stats.requests

    # Reporting

    def snapshot(self) -> SandboxStats:
        with self.lock:
            return copy.deepcopy(self.stats)

    def reset_stats(self) -> None:
        with self.lock:
            self.stats = SandboxStats(max_concurrent=self.in_flight)
            self._stats_window.clear()
