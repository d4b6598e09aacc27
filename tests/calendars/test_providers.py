"""The Google and Outlook clients against the calendar sandbox, through the real libraries."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from calendars.providers import provider_for
from calendars.providers.base import (
    AuthorizationFailed,
    Busy,
    CalendarError,
    EventRequest,
    ProviderUnavailable,
    TokenRevoked,
)
from calendars.providers.google import event_id

PROVIDERS = ["google", "microsoft"]
CALLBACK = "https://testserver/calendar/callback/{}/"
FREEBUSY = {"google": "google.freebusy", "microsoft": "graph.getSchedule"}
INSERT = {"google": "google.events.insert", "microsoft": "graph.events.create"}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def meeting(meeting_id: int = 41, *, video: bool = True) -> EventRequest:
    start = datetime(2030, 1, 7, 14, 0, tzinfo=UTC)
    return EventRequest(
        meeting_id=meeting_id,
        ics_uid=f"meeting-{meeting_id}@dynchat.test",
        start=start,
        end=start + timedelta(minutes=30),
        summary="Meeting with Ann",
        description="Booked through Dynchat",
        attendee_email="visitor@example.org",
        attendee_name="Visitor V",
        video_link=video,
    )


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_code_flow_uses_pkce_and_yields_the_account(
    calendar_sandbox: Any, calendar_settings: Any, name: str
) -> None:
    provider = provider_for(name)
    verifier, challenge = pkce()
    calendar_sandbox.auto_consent("ann@example.com")

    url = provider.authorization_url(
        state="s" * 43, code_challenge=challenge, redirect_uri=CALLBACK.format(name)
    )
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge"] == [challenge]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == ["s" * 43]
    redirect = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(redirect).query)["code"][0]

    grant = provider.exchange_code(
        code=code, code_verifier=verifier, redirect_uri=CALLBACK.format(name)
    )

    assert grant.account_email == "ann@example.com"
    assert grant.tokens.refresh_token
    assert grant.tokens.expires_at > datetime.now(UTC)


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_wrong_verifier_is_an_authorization_failure(
    calendar_sandbox: Any, calendar_settings: Any, name: str
) -> None:
    provider = provider_for(name)
    _, challenge = pkce()
    calendar_sandbox.auto_consent("ann@example.com")
    url = provider.authorization_url(
        state="state", code_challenge=challenge, redirect_uri=CALLBACK.format(name)
    )
    redirect = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    with pytest.raises(AuthorizationFailed):
        provider.exchange_code(
            code=code, code_verifier=pkce()[0], redirect_uri=CALLBACK.format(name)
        )


@pytest.mark.parametrize("name", PROVIDERS)
def test_busy_times_come_back_as_utc_intervals(
    calendar_sandbox: Any, calendar_settings: Any, name: str
) -> None:
    token = calendar_sandbox.issue_tokens(name, "ann@example.com")["access_token"]
    day = datetime(2030, 1, 7, tzinfo=UTC)
    calendar_sandbox.set_busy(
        "ann@example.com",
        [
            (day + timedelta(hours=10), day + timedelta(hours=11)),
            (day + timedelta(days=3), day + timedelta(days=3, hours=1)),
        ],
    )
    assert provider_for(name).busy(token, day, day + timedelta(days=1)) == [
        Busy(day + timedelta(hours=10), day + timedelta(hours=11))
    ]


@pytest.mark.parametrize("name", PROVIDERS)
def test_creating_a_meetings_event_twice_makes_one_event(
    calendar_sandbox: Any, calendar_settings: Any, name: str
) -> None:
    """A retried create (the task ran twice) returns the first event instead of a second."""
    token = calendar_sandbox.issue_tokens(name, "ann@example.com")["access_token"]
    provider = provider_for(name)

    first = provider.create_event(token, meeting())
    second = provider.create_event(token, meeting())

    assert first.event_id == second.event_id
    assert first.join_url
    events = calendar_sandbox.events("ann@example.com")
    assert len(events) == 1
    assert events[0]["attendees"] == ["visitor@example.org"]
    assert events[0]["start"] == datetime(2030, 1, 7, 14, 0, tzinfo=UTC)
    provider.delete_event(token, first.event_id)
    provider.delete_event(token, first.event_id)  # already gone: no error
    assert calendar_sandbox.events("ann@example.com") == []


def test_google_event_ids_are_derived_from_the_meeting() -> None:
    ids = {event_id(n) for n in (1, 2, 41, 10**9)}
    assert len(ids) == 4
    for value in ids:
        assert 5 <= len(value) <= 1024
        assert set(value) <= set("0123456789abcdefghijklmnopqrstuv")


def test_google_does_not_send_its_own_invitation(
    calendar_sandbox: Any, calendar_settings: Any
) -> None:
    token = calendar_sandbox.issue_tokens("google", "ann@example.com")["access_token"]
    provider_for("google").create_event(token, meeting(video=False))
    assert calendar_sandbox.events("ann@example.com")[0]["send_updates"] == "none"


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize("kind", ["500", "503", "timeout"])
def test_server_failures_and_timeouts_are_provider_unavailable(
    calendar_sandbox: Any, calendar_settings: Any, name: str, kind: str
) -> None:
    token = calendar_sandbox.issue_tokens(name, "ann@example.com")["access_token"]
    provider = provider_for(name)
    day = datetime(2030, 1, 7, tzinfo=UTC)
    calendar_sandbox.fault(FREEBUSY[name], kind)
    with pytest.raises(ProviderUnavailable):
        provider.busy(token, day, day + timedelta(days=1))
    calendar_sandbox.fault(INSERT[name], kind)
    with pytest.raises(ProviderUnavailable):
        provider.create_event(token, meeting())


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_refused_access_token_is_an_error_but_not_an_outage(
    calendar_sandbox: Any, calendar_settings: Any, name: str
) -> None:
    day = datetime(2030, 1, 7, tzinfo=UTC)
    with pytest.raises(CalendarError) as raised:
        provider_for(name).busy("not-a-token", day, day + timedelta(days=1))
    assert not isinstance(raised.value, ProviderUnavailable)


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_revoked_refresh_token_is_token_revoked(
    calendar_sandbox: Any, calendar_settings: Any, name: str
) -> None:
    refresh = calendar_sandbox.issue_tokens(name, "ann@example.com")["refresh_token"]
    calendar_sandbox.revoke("ann@example.com")
    with pytest.raises(TokenRevoked):
        provider_for(name).refresh(refresh)


def test_google_revoke_reaches_the_revocation_endpoint(
    calendar_sandbox: Any, calendar_settings: Any
) -> None:
    refresh = calendar_sandbox.issue_tokens("google", "ann@example.com")["refresh_token"]
    provider_for("google").revoke(refresh)
    assert calendar_sandbox.calls("google.revoke") == 1
    with pytest.raises(TokenRevoked):
        provider_for("google").refresh(refresh)
