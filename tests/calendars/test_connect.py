"""An agent connects Google Calendar or Outlook through the sandbox, end to end: "Connect" on the
Calendar page, the provider's (auto-consenting) authorize page, the callback, the stored
connection, and routing told once the transaction commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calendars.crypto import unseal
from calendars.models import (
    BookingRules,
    CalendarAudit,
    CalendarConnection,
    ConnectionStatus,
)
from calendars.signals import calendar_connected
from dynchat.models import User

PROVIDERS = ["google", "microsoft"]
EMAIL = "alex.agent@acme.example"


pytestmark = pytest.mark.usefixtures("calendar_settings")


@pytest.fixture
def announced() -> Iterator[list[dict[str, Any]]]:
    heard: list[dict[str, Any]] = []

    def receiver(sender: object, **kwargs: Any) -> None:
        heard.append(kwargs)

    calendar_connected.connect(receiver, dispatch_uid="test-connect")
    yield heard
    calendar_connected.disconnect(dispatch_uid="test-connect")


def connect(client: Client, sandbox: Any, provider: str, email: str = EMAIL) -> Any:
    """Click "Connect", let the provider's page consent as ``email``, follow it back."""
    sandbox.auto_consent(email)
    response = client.post(reverse("calendars:connect"), {"provider": provider})
    assert response.status_code == 302
    answer = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code in {302, 303}
    back = urlsplit(answer.headers["Location"])
    assert back.path == reverse("calendars:callback", args=[provider])
    return client.get(f"{back.path}?{back.query}", follow=True)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_agent_connects_their_calendar_through_the_provider(
    agent: User,
    agent_client: Client,
    calendar_sandbox: Any,
    provider: str,
    announced: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = connect(agent_client, calendar_sandbox, provider)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Connected" in html
    assert EMAIL in html
    connection = CalendarConnection.objects.get(agent=agent)
    assert connection.provider == provider
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.account_email == EMAIL
    assert connection.access_expires_at is not None
    assert connection.access_expires_at > timezone.now()
    refresh = unseal(bytes(connection.sealed_refresh_token or b""), connection.key_version)
    assert refresh
    assert refresh.encode() not in bytes(connection.sealed_refresh_token or b"")
    assert BookingRules.objects.filter(agent=agent).exists()
    audit = CalendarAudit.objects.get()
    assert (audit.agent_id, audit.action, audit.provider) == (agent.pk, "connected", provider)
    assert announced == [{"signal": calendar_connected, "agent_id": agent.pk, "reconnected": False}]


def test_routing_hears_of_the_connection_only_once_it_is_committed(
    agent_client: Client,
    calendar_sandbox: Any,
    announced: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        connect(agent_client, calendar_sandbox, "google")
    assert announced == []
    for callback in callbacks:
        callback()
    assert len(announced) == 1


def test_reconnecting_a_lost_calendar_replaces_it_and_says_so(
    agent: User,
    agent_client: Client,
    calendar_sandbox: Any,
    announced: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    connect(agent_client, calendar_sandbox, "google")
    CalendarConnection.objects.filter(agent=agent).update(
        status=ConnectionStatus.NEEDS_RECONNECT,
        lost_at=timezone.now(),
        lost_reason="Token has been expired or revoked.",
        notified_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        connect(agent_client, calendar_sandbox, "microsoft", email="alex@acme.example")

    connection = CalendarConnection.objects.get(agent=agent)
    assert (connection.provider, connection.status) == ("microsoft", ConnectionStatus.ACTIVE)
    assert connection.account_email == "alex@acme.example"
    assert (connection.lost_at, connection.lost_reason, connection.notified_at) == (None, "", None)
    assert announced[-1]["reconnected"] is True


def test_connecting_keeps_the_agents_booking_rules(
    agent: User, agent_client: Client, calendar_sandbox: Any
) -> None:
    BookingRules.objects.create(agent=agent, duration_minutes=45)
    connect(agent_client, calendar_sandbox, "google")
    assert BookingRules.objects.get(agent=agent).duration_minutes == 45


def test_marketers_connect_no_calendar(marketer_client: Client) -> None:
    response = marketer_client.post(reverse("calendars:connect"), {"provider": "google"})
    assert response.status_code == 403


def test_an_unknown_provider_is_refused(agent_client: Client) -> None:
    response = agent_client.post(reverse("calendars:connect"), {"provider": "yahoo"})
    assert response.status_code == 400
    assert not CalendarConnection.objects.exists()
