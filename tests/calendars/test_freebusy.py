"""Free/busy: every agent's calendar read at once through the sandbox, cached, and failing closed.

The tests run without a wrapping transaction (``transaction=True``): calendars are read in
threads, each with its own database connection, which must see the agents the test created.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection as db_connection

from calendars.availability import Interval
from calendars.freebusy import busy_for
from calendars.models import CalendarConnection, ConnectionStatus, Provider
from calendars.sandbox.sandbox import CalendarSandbox
from dynchat.models import User
from tests.calendars.factories import connected_agent

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
END = START + timedelta(days=14)
HOUR = timedelta(hours=1)


def connections(*agents: User) -> list[CalendarConnection]:
    return list(CalendarConnection.objects.filter(agent__in=agents).order_by("id"))


def spans(busy: Sequence[Interval] | None) -> list[tuple[datetime, datetime]] | None:
    return None if busy is None else [(item.start, item.end) for item in busy]


def test_it_reads_google_and_outlook_calendars_of_many_agents_at_once(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any]
) -> None:
    """RR-7: each agent's busy times, keyed by agent id, from both providers."""
    agents = [
        connected_agent(
            calendar_sandbox,
            f"agent{n}@example.com",
            provider=Provider.MICROSOFT if n % 2 else Provider.GOOGLE,
        )
        for n in range(6)
    ]
    for n, agent in enumerate(agents):
        calendar_sandbox.set_busy(agent.email, [(START + n * HOUR, START + (n + 1) * HOUR)])
    answers = busy_for(connections(*agents), START, END)
    assert {agent_id: spans(busy) for agent_id, busy in answers.items()} == {
        agent.id: [(START + n * HOUR, START + (n + 1) * HOUR)] for n, agent in enumerate(agents)
    }
    assert calendar_sandbox.calls("google.freebusy") == 3
    assert calendar_sandbox.calls("graph.getSchedule") == 3


def test_the_calendar_threads_leave_no_database_connection_open(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any]
) -> None:
    """RR-7: threads close their connections; the pool does not keep one per thread."""
    agents = [connected_agent(calendar_sandbox, f"a{n}@example.com") for n in range(5)]

    def open_connections() -> int:
        with db_connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            row = cursor.fetchone()
        assert row is not None
        return int(row[0])

    before = open_connections()
    answers = busy_for(connections(*agents), START, END)
    assert all(busy == [] for busy in answers.values())
    assert open_connections() == before


def test_answers_are_cached_until_asked_for_fresh(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any]
) -> None:
    """B-6: slot listings may use the cache; booking (fresh) sees the calendar as it is now."""
    ann = connected_agent(calendar_sandbox, "ann@example.com")
    first = busy_for(connections(ann), START, END)
    calendar_sandbox.add_busy("ann@example.com", START, START + HOUR)
    cached = busy_for(connections(ann), START + timedelta(minutes=5), END)
    assert first == cached == {ann.id: []}
    assert calendar_sandbox.calls("google.freebusy") == 1
    fresh = busy_for(connections(ann), START, END, fresh=True)
    assert spans(fresh[ann.id]) == [(START, START + HOUR)]
    assert calendar_sandbox.calls("google.freebusy") == 2
    # The fresh answer replaced the cached one.
    assert spans(busy_for(connections(ann), START, END)[ann.id]) == [(START, START + HOUR)]
    assert calendar_sandbox.calls("google.freebusy") == 2


def test_the_cache_lasts_calendar_busy_cache_seconds(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any], settings: Any
) -> None:
    """RR-7: with no cache time every listing asks the calendar."""
    settings.CALENDAR_BUSY_CACHE_SECONDS = 0
    ann = connected_agent(calendar_sandbox, "ann@example.com")
    busy_for(connections(ann), START, END)
    busy_for(connections(ann), START, END)
    assert calendar_sandbox.calls("google.freebusy") == 2


def test_only_busy_times_within_the_window_are_answered(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any]
) -> None:
    """RR-7: the window asked of the calendar is widened for the cache, the answer is not."""
    ann = connected_agent(calendar_sandbox, "ann@example.com")
    start = START + timedelta(minutes=7)
    calendar_sandbox.set_busy(
        "ann@example.com",
        [(START, START + timedelta(minutes=7)), (START, START + timedelta(minutes=8))],
    )
    assert spans(busy_for(connections(ann), start, END)[ann.id]) == [
        (START, START + timedelta(minutes=8))
    ]


@pytest.mark.parametrize("kind", ["500", "503"])
def test_a_calendar_that_fails_is_unavailable_and_the_others_still_answer(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any], kind: str
) -> None:
    """O-7: a transient failure is not free time (None), not cached, and not a revocation."""
    ann = connected_agent(calendar_sandbox, "ann@example.com")
    bob = connected_agent(calendar_sandbox, "bob@example.com", provider=Provider.MICROSOFT)
    calendar_sandbox.fault("graph.getSchedule", kind)
    assert busy_for(connections(ann, bob), START, END) == {ann.id: [], bob.id: None}
    assert CalendarConnection.objects.get(agent=bob).status == ConnectionStatus.ACTIVE
    assert busy_for(connections(ann, bob), START, END) == {ann.id: [], bob.id: []}


def test_a_calendar_that_is_too_slow_is_unavailable(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any]
) -> None:
    """O-7: past CALENDAR_TIMEOUT_SECONDS the calendar counts as unavailable."""
    ann = connected_agent(calendar_sandbox, "ann@example.com")
    calendar_sandbox.fault("google.freebusy", "timeout")
    assert busy_for(connections(ann), START, END) == {ann.id: None}


def test_a_revoked_calendar_is_unavailable_and_never_asked_again(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any]
) -> None:
    """RR-6 / O-6: the agent drops out (None) at once; no more token calls until reconnect."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", expires_in=0)
    bob = connected_agent(calendar_sandbox, "bob@example.com")
    calendar_sandbox.revoke("ann@example.com")
    assert busy_for(connections(ann, bob), START, END) == {ann.id: None, bob.id: []}
    assert CalendarConnection.objects.get(agent=ann).status == ConnectionStatus.NEEDS_RECONNECT
    token_calls = calendar_sandbox.calls("google.token")
    assert busy_for(connections(ann, bob), START, END, fresh=True) == {ann.id: None, bob.id: []}
    assert calendar_sandbox.calls("google.token") == token_calls


def test_a_calendar_that_needs_reconnecting_is_not_served_from_the_cache(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any]
) -> None:
    """RR-6: once the connection is lost, its cached busy times no longer count as an answer."""
    ann = connected_agent(calendar_sandbox, "ann@example.com")
    assert busy_for(connections(ann), START, END) == {ann.id: []}
    CalendarConnection.objects.filter(agent=ann).update(status=ConnectionStatus.NEEDS_RECONNECT)
    assert busy_for(connections(ann), START, END) == {ann.id: None}


def test_no_connections_no_answers() -> None:
    """RR-7."""
    assert busy_for([], START, END) == {}
