"""The sandbox's memory: accounts' tokens and codes, busy times, events, faults and call counts.

One ``State`` is shared by both listeners and by the Python API; every method takes the lock.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

GOOGLE = "google"
MICROSOFT = "microsoft"
PROVIDERS = (GOOGLE, MICROSOFT)

ENDPOINTS = (
    "google.token",
    "google.freebusy",
    "google.events.insert",
    "google.events.delete",
    "google.revoke",
    "ms.token",
    "graph.getSchedule",
    "graph.events.create",
    "graph.events.delete",
    "graph.me",
)
FAULT_KINDS = ("invalid_grant", "500", "503", "timeout")
CODE_SECONDS = 600

GOOGLE_SCOPES = (
    "openid https://www.googleapis.com/auth/userinfo.email "
    "https://www.googleapis.com/auth/calendar.events "
    "https://www.googleapis.com/auth/calendar.freebusy"
)
MS_SCOPES = "Calendars.ReadWrite User.Read openid profile offline_access"

TokenStatus = Literal["active", "rotated", "revoked"]


@dataclass
class Token:
    value: str
    provider: str
    email: str
    kind: Literal["access", "refresh"]
    client_id: str
    scope: str
    expires_at: float  # time.time(); refresh tokens: infinity
    status: TokenStatus = "active"


@dataclass
class Code:
    provider: str
    email: str
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    challenge_method: str
    nonce: str | None
    expires_at: float
    used: bool = False


@dataclass
class Event:
    id: str
    provider: str
    email: str
    start: datetime
    end: datetime
    summary: str
    description: str
    attendees: list[str]
    join_url: str
    send_updates: str | None
    transaction_id: str | None = None
    ical_uid: str = ""
    status: str = "confirmed"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    request: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """What ``CalendarSandbox.events`` answers for this event."""
        return {
            "id": self.id,
            "provider": self.provider,
            "start": self.start,
            "end": self.end,
            "attendees": list(self.attendees),
            "summary": self.summary,
            "description": self.description,
            "join_url": self.join_url,
            "send_updates": self.send_updates,
            "transaction_id": self.transaction_id,
            "ical_uid": self.ical_uid,
            "status": self.status,
        }


def account_id(email: str) -> str:
    """A stable object id for an account (Entra ``oid``, Google ``sub``)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "sandbox-account:" + email.lower()))


def pkce_matches(challenge: str | None, method: str, verifier: str | None) -> bool:
    """RFC 7636: no challenge needs no verifier; S256 compares base64url(sha256(verifier))."""
    if challenge is None:
        return True
    if not verifier:
        return False
    if method == "plain":
        return secrets.compare_digest(challenge, verifier)
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(challenge, computed)


class State:
    """Everything the sandbox knows, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.tokens: dict[str, Token] = {}
            self.codes: dict[str, Code] = {}
            self.busy: dict[str, list[tuple[datetime, datetime]]] = {}
            self.events: dict[str, dict[str, Event]] = {}  # email -> id -> event
            self.faults: dict[str, list[str]] = {}
            self.calls: Counter[str] = Counter()
            self.consent_as: str | None = None
            # Whether created events show up as busy time (as in a real calendar). Off by
            # default, so a test's busy times are exactly the ones it set.
            self.events_busy = False

    # Tokens and codes

    def issue(
        self,
        provider: str,
        email: str,
        *,
        client_id: str,
        scope: str,
        expires_in: int = 3600,
        refresh: bool = True,
    ) -> dict[str, Any]:
        prefix = "ya29.sbx-" if provider == GOOGLE else "EwB.sbx-"
        access = Token(
            prefix + secrets.token_urlsafe(24),
            provider,
            email.lower(),
            "access",
            client_id,
            scope,
            time.time() + expires_in,
        )
        with self.lock:
            self.tokens[access.value] = access
            answer: dict[str, Any] = {"access_token": access.value, "expires_in": expires_in}
            if refresh:
                answer["refresh_token"] = self.new_refresh(provider, email, client_id, scope)
        return answer

    def new_refresh(self, provider: str, email: str, client_id: str, scope: str) -> str:
        prefix = "1//sbx-" if provider == GOOGLE else "M.C5.sbx-"
        token = Token(
            prefix + secrets.token_urlsafe(32),
            provider,
            email.lower(),
            "refresh",
            client_id,
            scope,
            float("inf"),
        )
        with self.lock:
            self.tokens[token.value] = token
        return token.value

    def token(self, value: str, provider: str, kind: str) -> Token | None:
        """The token with that value, of that provider and kind, whatever its status."""
        with self.lock:
            found = self.tokens.get(value)
        if found is None or found.provider != provider or found.kind != kind:
            return None
        return found

    def bearer(self, value: str, provider: str) -> Token | None:
        """A usable access token: active and not expired."""
        found = self.token(value, provider, "access")
        if found is None or found.status != "active" or found.expires_at <= time.time():
            return None
        return found

    def revoke(self, email: str, provider: str | None = None) -> int:
        """Every token of that account (of that provider, or all) is revoked; how many were."""
        count = 0
        with self.lock:
            for token in self.tokens.values():
                if token.email == email.lower() and provider in (None, token.provider):
                    if token.status == "active":
                        count += 1
                    token.status = "revoked"
        return count

    def new_code(self, code: Code) -> str:
        value = "4/sbx-" + secrets.token_urlsafe(24)
        with self.lock:
            self.codes[value] = code
        return value

    def take_code(self, value: str, provider: str) -> Code | None:
        """A code is good once, for its provider, for ten minutes."""
        with self.lock:
            code = self.codes.get(value)
            if code is None or code.provider != provider:
                return None
            if code.used or code.expires_at < time.time():
                code.used = True
                return None
            code.used = True
            return code

    # Busy times and events

    def set_busy(self, email: str, intervals: list[tuple[datetime, datetime]]) -> None:
        checked = [_interval(start, end) for start, end in intervals]
        with self.lock:
            self.busy[email.lower()] = sorted(checked)

    def add_busy(self, email: str, start: datetime, end: datetime) -> None:
        with self.lock:
            self.busy.setdefault(email.lower(), []).append(_interval(start, end))
            self.busy[email.lower()].sort()

    def busy_between(
        self, email: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """Busy intervals overlapping [start, end), clipped (live events too if events_busy)."""
        with self.lock:
            intervals = list(self.busy.get(email.lower(), []))
            if self.events_busy:
                intervals += [
                    (event.start, event.end)
                    for event in self.events.get(email.lower(), {}).values()
                    if event.status == "confirmed"
                ]
        clipped = [(max(s, start), min(e, end)) for s, e in intervals if s < end and e > start]
        return _merge(sorted(clipped))

    def knows(self, email: str) -> bool:
        with self.lock:
            return email.lower() in self.busy or any(
                token.email == email.lower() for token in self.tokens.values()
            )

    def event(self, email: str, event_id: str) -> Event | None:
        with self.lock:
            return self.events.get(email.lower(), {}).get(event_id)

    def event_by_transaction(self, email: str, transaction_id: str) -> Event | None:
        with self.lock:
            for event in self.events.get(email.lower(), {}).values():
                if event.transaction_id == transaction_id:
                    return event
        return None

    def add_event(self, event: Event) -> bool:
        """Store a new event; False when that id is already taken (deleted events keep theirs)."""
        with self.lock:
            calendar = self.events.setdefault(event.email.lower(), {})
            if event.id in calendar:
                return False
            calendar[event.id] = event
            return True

    def list_events(self, email: str, *, include_deleted: bool = False) -> list[Event]:
        with self.lock:
            found = list(self.events.get(email.lower(), {}).values())
        return [e for e in found if include_deleted or e.status != "cancelled"]

    # Faults and calls

    def add_fault(self, endpoint: str, kind: str, times: int = 1) -> None:
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {', '.join(ENDPOINTS)}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        with self.lock:
            self.faults.setdefault(endpoint, []).extend([kind] * max(times, 0))

    def call(self, endpoint: str) -> str | None:
        """Count a call to the endpoint; the fault to answer it with, if one is armed."""
        with self.lock:
            self.calls[endpoint] += 1
            queue = self.faults.get(endpoint)
            return queue.pop(0) if queue else None

    def count(self, endpoint: str) -> int:
        with self.lock:
            return self.calls[endpoint]


def _interval(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("busy times must be aware datetimes")
    if end <= start:
        raise ValueError("a busy interval must end after it starts")
    return start.astimezone(UTC), end.astimezone(UTC)


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
