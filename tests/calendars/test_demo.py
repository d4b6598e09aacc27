"""The demo's calendars: with the bundled sandbox, two agents are connected and in the rotation, so
a visitor can book at once; against the real providers the demo leaves calendars to the agents."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calendars import demo
from calendars.models import CalendarConnection, ConnectionStatus
from calendars.providers import provider_for
from calendars.providers.base import Busy
from calendars.tokens import access_token
from dynchat.models import Role, User
from routing import queue

# The store is committed for real: the demo announces connections once its transactions commit,
# and access tokens are read outside any transaction, as in `manage.py run`.
pytestmark = pytest.mark.django_db(transaction=True)

ALEX = ("agent@demo.dynchat.test", "Alex Agent", "google", "alex.agent@acme.example")
SAM = ("sam@demo.dynchat.test", "Sam Rivera", "microsoft", "sam.rivera@acme.example")


def busy_of(connection: CalendarConnection, start: datetime, end: datetime) -> list[Busy]:
    """The busy times the agent's calendar answers, over real HTTP from the sandbox."""
    return provider_for(connection.provider).busy(access_token(connection.pk), start, end)


def tomorrows_lunch(zone: str) -> tuple[datetime, datetime]:
    local = ZoneInfo(zone)
    day = datetime.now(local).date() + timedelta(days=1)
    lunch = datetime.combine(day, time(12), local)
    return lunch, lunch + timedelta(hours=1)


def test_the_demo_connects_alex_and_sam_and_puts_them_in_the_rotation(
    calendar_sandbox: Any, calendar_settings: dict[str, Any]
) -> None:
    summary = demo.load_demo()

    assert summary == {
        "calendars": "Alex Agent (Google Calendar), Sam Rivera (Outlook (Microsoft 365))"
    }
    for email, name, provider, account in (ALEX, SAM):
        agent = User.objects.get(email=email)
        assert (agent.name, agent.role) == (name, Role.AGENT)
        connection = CalendarConnection.objects.get(agent=agent)
        assert (connection.provider, connection.account_email, connection.status) == (
            provider,
            account,
            ConnectionStatus.ACTIVE,
        )
    assert [member.agent.name for member in queue.members()] == ["Alex Agent", "Sam Rivera"]
    assert [member.agent.name for member in queue.in_turn()] == ["Alex Agent", "Sam Rivera"]


def test_the_demo_agents_calendars_are_busy_over_lunch(
    calendar_sandbox: Any, calendar_settings: dict[str, Any]
) -> None:
    demo.load_demo()

    for email, zone in ((ALEX[0], "America/New_York"), (SAM[0], "Europe/London")):
        connection = CalendarConnection.objects.get(agent__email=email)
        lunch_start, lunch_end = tomorrows_lunch(zone)
        busy = busy_of(connection, lunch_start - timedelta(hours=2), lunch_end + timedelta(hours=1))
        assert [(b.start, b.end) for b in busy] == [(lunch_start, lunch_end)], email
        morning = busy_of(connection, lunch_start - timedelta(hours=3), lunch_start)
        assert morning == [], email


def test_loading_the_demo_again_keeps_one_connection_and_one_place_per_agent(
    calendar_sandbox: Any, calendar_settings: dict[str, Any]
) -> None:
    demo.load_demo()
    first = dict(CalendarConnection.objects.values_list("agent__email", "pk"))

    assert demo.load_demo()["calendars"].startswith("Alex Agent")

    assert User.objects.filter(email__in=[ALEX[0], SAM[0]]).count() == 2
    assert dict(CalendarConnection.objects.values_list("agent__email", "pk")) == first
    assert set(CalendarConnection.objects.values_list("status", flat=True)) == {
        ConnectionStatus.ACTIVE
    }
    assert [member.agent.name for member in queue.in_turn()] == ["Alex Agent", "Sam Rivera"]
    assert sorted(member.position for member in queue.members()) == [0, 1]
    # The connection stored last works: its tokens are the sandbox's current ones.
    for connection in CalendarConnection.objects.all():
        lunch_start, lunch_end = tomorrows_lunch(connection.agent.time_zone)
        assert busy_of(connection, lunch_start, lunch_end)


def test_against_the_real_providers_the_demo_connects_nobody(
    calendar_sandbox: Any, calendar_settings: dict[str, Any], settings: Any
) -> None:
    settings.GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

    assert demo.load_demo() == {"calendars": "agents connect their own calendars"}

    assert not CalendarConnection.objects.exists()
    assert not User.objects.filter(email__in=[ALEX[0], SAM[0]]).exists()
    assert not queue.members().exists()
    assert calendar_sandbox.calls("google.token") == 0


def test_without_a_key_to_seal_tokens_the_demo_says_so_instead_of_failing(
    calendar_sandbox: Any, calendar_settings: dict[str, Any], settings: Any
) -> None:
    settings.CALENDAR_TOKEN_KEYS = []

    summary = demo.load_demo()

    assert summary["calendars"].startswith("not connected: CALENDAR_TOKEN_KEYS")
    assert not CalendarConnection.objects.exists()
