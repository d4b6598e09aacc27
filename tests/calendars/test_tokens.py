"""Access tokens: refreshed once, lost only when the provider says so, and never guessed at."""

from __future__ import annotations

import base64
import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse

from calendars import tokens
from calendars.crypto import KeyUnavailable, unseal
from calendars.models import CalendarAudit, CalendarConnection, ConnectionStatus
from calendars.providers import provider_for
from calendars.providers.base import NeedsReconnect, ProviderUnavailable, TokenRevoked
from calendars.signals import calendar_lost
from dynchat.models import User
from tests.calendars.factories import connected_agent

TOKEN_ENDPOINT = {"google": "google.token", "microsoft": "ms.token"}


def new_key(version: str) -> str:
    return f"{version}:" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def connection_of(agent: User) -> CalendarConnection:
    return CalendarConnection.objects.get(agent=agent)


def expire(agent: User) -> CalendarConnection:
    """The stored access token has run out: the next call needs the token endpoint."""
    CalendarConnection.objects.filter(agent=agent).update(
        access_expires_at=datetime.now(UTC) - timedelta(minutes=5)
    )
    return connection_of(agent)


@pytest.fixture
def quick_backoff(settings: Any) -> None:
    settings.CALENDAR_RETRY_BACKOFF_SECONDS = 0.01


@pytest.fixture
def lost_signals() -> Any:
    heard: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs)

    calendar_lost.connect(receiver, weak=False)
    yield heard
    calendar_lost.disconnect(receiver)


@pytest.mark.django_db(transaction=True)
def test_a_fresh_stored_token_is_used_without_the_token_endpoint(
    calendar_sandbox: Any, calendar_settings: Any
) -> None:
    agent = connected_agent(calendar_sandbox, "ann@example.com")
    token = tokens.access_token(connection_of(agent).id)
    assert (
        provider_for("google").busy(token, datetime.now(UTC), datetime.now(UTC) + timedelta(days=1))
        == []
    )
    assert calendar_sandbox.calls("google.token") == 0


@pytest.mark.django_db(transaction=True)
def test_an_expired_token_is_refreshed_and_stored_sealed(
    calendar_sandbox: Any, calendar_settings: Any
) -> None:
    agent = connected_agent(calendar_sandbox, "ann@example.com")
    old = tokens.access_token(connection_of(agent).id)
    connection = expire(agent)

    token = tokens.access_token(connection.id)

    assert token != old
    connection.refresh_from_db()
    assert connection.access_token_fresh()
    assert unseal(bytes(connection.sealed_access_token or b""), connection.key_version) == token
    assert tokens.access_token(connection.id) == token
    assert calendar_sandbox.calls("google.token") == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fresh", [True, False], ids=["fresh token", "expired token"])
def test_a_removed_key_fails_closed_without_calling_the_provider(
    calendar_sandbox: Any, calendar_settings: Any, settings: Any, fresh: bool
) -> None:
    """O-2: the key a row was sealed with is gone: a typed error, needs_reconnect, no token-
    endpoint call with ciphertext, and the agent's Calendar page still answers."""
    settings.CALENDAR_TOKEN_KEYS = [new_key("k0")]
    agent = connected_agent(calendar_sandbox, "ann@example.com")
    connection = connection_of(agent) if fresh else expire(agent)
    settings.CALENDAR_TOKEN_KEYS = [new_key("k1")]

    with pytest.raises(KeyUnavailable):
        tokens.access_token(connection.id)
    with pytest.raises(NeedsReconnect):
        tokens.access_token(connection.id)

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert calendar_sandbox.calls("google.token") == 0
    assert len(mail.outbox) == 1
    client = Client()
    client.force_login(agent)
    assert client.get(reverse("calendars:calendar"), secure=True).status_code == 200


REVOCATIONS = {
    "google revoked": ("google", "revoke", "Token has been expired or revoked."),
    "microsoft revoked": ("microsoft", "revoke", "AADSTS50173"),
    "microsoft redeemed": ("microsoft", "redeemed", "AADSTS70000"),
    "microsoft fault": ("microsoft", "fault", "AADSTS50173"),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", REVOCATIONS.values(), ids=REVOCATIONS.keys())
def test_a_revoked_grant_needs_reconnecting_after_one_attempt_and_one_notice(
    calendar_sandbox: Any,
    calendar_settings: Any,
    quick_backoff: None,
    lost_signals: list[dict[str, Any]],
    case: tuple[str, str, str],
) -> None:
    """O-6: invalid_grant → needs_reconnect after 1 attempt, exactly 1 e-mail to the agent per
    incident, and no further token calls until the agent reconnects."""
    provider, how, said = case
    agent = connected_agent(calendar_sandbox, "ann@example.com", provider=provider, name="Ann")
    connection = expire(agent)
    if how == "revoke":
        calendar_sandbox.revoke("ann@example.com")
    elif how == "fault":
        calendar_sandbox.fault(TOKEN_ENDPOINT[provider], "invalid_grant")
    else:  # the stored refresh token was already redeemed elsewhere (Microsoft rotates them)
        refresh = unseal(bytes(connection.sealed_refresh_token or b""), connection.key_version)
        provider_for(provider).refresh(refresh)
    before = calendar_sandbox.calls(TOKEN_ENDPOINT[provider])

    with pytest.raises(NeedsReconnect) as raised:
        tokens.access_token(connection.id)
    assert isinstance(raised.value.__cause__, TokenRevoked)
    assert said in str(raised.value.__cause__)
    for _ in range(3):
        with pytest.raises(NeedsReconnect):
            tokens.access_token(connection.id)

    assert calendar_sandbox.calls(TOKEN_ENDPOINT[provider]) - before == 1
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert connection.lost_at is not None
    assert connection.notified_at is not None
    assert [m.subject for m in mail.outbox] == ["Reconnect your calendar"]
    assert mail.outbox[0].to == ["ann@example.com"]
    assert "https://testserver/calendar/" in mail.outbox[0].body
    assert lost_signals == [
        {"signal": calendar_lost, "agent_id": agent.id, "reason": tokens.REVOKED}
    ]
    assert CalendarAudit.objects.filter(action=CalendarAudit.Action.LOST).count() == 1


@pytest.mark.django_db(transaction=True)
def test_marking_a_lost_connection_lost_again_sends_no_second_notice(
    calendar_sandbox: Any, calendar_settings: Any
) -> None:
    agent = connected_agent(calendar_sandbox, "ann@example.com")
    connection = connection_of(agent)
    tokens.mark_lost(connection.id, "revoked")
    tokens.mark_lost(connection.id, "revoked again")
    assert len(mail.outbox) == 1
    assert CalendarAudit.objects.filter(action=CalendarAudit.Action.LOST).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", ["google", "microsoft"])
@pytest.mark.parametrize("kind", ["500", "503", "timeout"])
def test_transient_failures_are_retried_and_never_taken_for_revocation(
    calendar_sandbox: Any, calendar_settings: Any, quick_backoff: None, provider: str, kind: str
) -> None:
    """O-7: 5xx and timeouts: at most 5 attempts with backoff, then ProviderUnavailable; the
    connection stays active and the agent is not told to reconnect."""
    agent = connected_agent(calendar_sandbox, "ann@example.com", provider=provider)
    connection = expire(agent)
    calendar_sandbox.fault(TOKEN_ENDPOINT[provider], kind, times=10)

    with pytest.raises(ProviderUnavailable):
        tokens.access_token(connection.id)

    assert calendar_sandbox.calls(TOKEN_ENDPOINT[provider]) == tokens.MAX_ATTEMPTS == 5
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_failure_that_passes_is_ridden_out_by_the_retries(
    calendar_sandbox: Any, calendar_settings: Any, quick_backoff: None
) -> None:
    agent = connected_agent(calendar_sandbox, "ann@example.com")
    connection = expire(agent)
    calendar_sandbox.fault("google.token", "503", times=2)

    token = tokens.access_token(connection.id)

    assert token
    assert calendar_sandbox.calls("google.token") == 3
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_concurrent_callers_share_one_refresh_of_a_rotating_token(
    calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """O-8: 20 tasks need a token for one expired Microsoft credential whose refresh token
    rotates on use: 1 token-endpoint call, 20 valid tokens, the newest refresh token stored."""
    agent = connected_agent(calendar_sandbox, "mo@example.com", provider="microsoft")
    connection = expire(agent)
    original_refresh = unseal(bytes(connection.sealed_refresh_token or b""), "t1")
    start = threading.Barrier(20)
    got: list[str] = []
    failed: list[BaseException] = []

    def task() -> None:
        try:
            start.wait()
            got.append(tokens.access_token(connection.id))
        except BaseException as error:  # collected and asserted below
            failed.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=task) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failed == []
    assert calendar_sandbox.calls("ms.token") == 1
    assert len(got) == 20
    assert len(set(got)) == 1
    outlook = provider_for("microsoft")
    now = datetime.now(UTC)
    assert outlook.busy(got[0], now, now + timedelta(days=1)) == []  # the token is valid
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    stored = unseal(bytes(connection.sealed_refresh_token or b""), connection.key_version)
    assert stored != original_refresh
    with pytest.raises(TokenRevoked):  # the old one was rotated away…
        outlook.refresh(original_refresh)
    assert outlook.refresh(stored).access_token  # …and the stored one is the newest
