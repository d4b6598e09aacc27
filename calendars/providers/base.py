"""What Dynchat needs from a calendar provider, and what it gets back (no client library here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class CalendarError(Exception):
    """A provider call failed."""


class TokenRevoked(CalendarError):
    """The provider refused the refresh token for good (invalid_grant): the agent must reconnect."""


class ProviderUnavailable(CalendarError):
    """A failure that may pass (5xx, timeout, network): retry later, never treat as free time."""


class NeedsReconnect(CalendarError):
    """The connection cannot be used (revoked, or sealed with a key Dynchat no longer has)."""


class AuthorizationFailed(CalendarError):
    """The authorization code could not be exchanged (bad code, verifier, issuer)."""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None  # None: the provider kept the old one (Google does)
    expires_at: datetime


@dataclass(frozen=True)
class Grant:
    """What a successful OAuth callback yields."""

    tokens: TokenSet
    account_email: str


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class EventRequest:
    meeting_id: int
    ics_uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    attendee_email: str
    attendee_name: str
    video_link: bool


@dataclass(frozen=True)
class CreatedEvent:
    event_id: str
    join_url: str = ""


class Provider(Protocol):
    """One provider's OAuth and calendar calls, each through its real client library."""

    name: str

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str: ...

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> Grant: ...

    def refresh(self, refresh_token: str) -> TokenSet: ...

    def revoke(self, token: str) -> None: ...

    def busy(self, access_token: str, start: datetime, end: datetime) -> list[Busy]: ...

    def create_event(self, access_token: str, event: EventRequest) -> CreatedEvent: ...

    def delete_event(self, access_token: str, event_id: str) -> None: ...
