"""RR-7: round robin never gives an agent a meeting outside their availability."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dynchat.models import Site
from meetings.models import Meeting
from meetings.refusals import BookingRefused
from routing.assignment import book
from tests.calendars.factories import DAYS, connected_agent
from tests.meetings import request, slot

BOOKINGS = 500
WEEK = timedelta(days=7)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

# name: (zone, working hours, buffer minutes)
AGENTS: dict[str, tuple[str, dict[str, list[list[str]]], int]] = {
    "ann": ("UTC", {day: [["09:00", "17:00"]] for day in WEEKDAYS}, 0),
    "ben": (
        "America/New_York",
        {day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in WEEKDAYS},
        0,
    ),
    "cai": ("Asia/Tokyo", {day: [["10:00", "18:00"]] for day in DAYS[1:6]}, 0),
    "dee": ("Europe/Berlin", {day: [["08:00", "24:00"]] for day in DAYS}, 15),
}
# name: {day: blocks} in the agent's zone; a day is a number of days after the agent's first
# local day of the week booked, or the first such weekday from then on.
OVERRIDES: dict[str, dict[int | str, list[list[str]]]] = {
    "ann": {1: [], 3: [["12:00", "14:00"]]},  # a day off, a short day
    "ben": {2: [["07:00", "09:00"], ["17:00", "20:00"]]},  # other hours
    "cai": {"sun": [["09:00", "13:00"]], "mon": [["20:00", "24:00"]]},  # days off made working
    "dee": {4: [["08:00", "10:00"]]},
}


def override_dates(
    first: datetime, zone: str, overrides: dict[int | str, list[list[str]]]
) -> dict[str, list[list[str]]]:
    """OVERRIDES of one agent as stored: by ISO date."""
    day = first.astimezone(ZoneInfo(zone)).date()
    stored: dict[str, list[list[str]]] = {}
    for when, blocks in overrides.items():
        offset = when if isinstance(when, int) else (DAYS.index(when) - day.weekday()) % 7
        stored[(day + timedelta(days=offset)).isoformat()] = blocks
    return stored


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)  # "24:00" is 1440


def inside_working_hours(
    start: datetime,
    end: datetime,
    zone: str,
    hours: dict[str, list[list[str]]],
    overrides: dict[str, list[list[str]]],
) -> bool:
    """The oracle's own reading of working hours: the meeting lies in one block, local time, of
    its date's override or else its weekday."""
    local_start = start.astimezone(ZoneInfo(zone))
    midnight = datetime.combine(local_start.date(), time(0), ZoneInfo(zone))
    # Minutes since local midnight by the wall clock (the day may be 23 or 25 hours long).
    begins = local_start.hour * 60 + local_start.minute
    local_end = end.astimezone(ZoneInfo(zone))
    days = (local_end.date() - midnight.date()).days
    ends = days * 1440 + local_end.hour * 60 + local_end.minute
    blocks = overrides.get(
        local_start.date().isoformat(), hours.get(DAYS[local_start.weekday()], [])
    )
    return any(_minutes(first) <= begins and ends <= _minutes(last) for first, last in blocks)


def external_busy(rng: random.Random, first: datetime) -> list[tuple[datetime, datetime]]:
    events = []
    for _ in range(25):
        start = first + timedelta(minutes=15 * rng.randrange(7 * 24 * 4))
        events.append((start, start + timedelta(minutes=rng.choice([15, 30, 45, 60, 120]))))
    return sorted(events)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(600)
def test_no_meeting_falls_outside_its_agents_availability(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """RR-7: 500 bookings over a week, agents in four zones with their own hours, date overrides,
    buffers and external busy events: an independent oracle finds 0 meetings outside
    availability."""
    rng = random.Random(7)  # noqa: S311 - a repeatable scenario, not a secret
    first = slot(days=2, hour=0)
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    rules: dict[int, tuple[str, dict[str, list[list[str]]], int]] = {}
    dates: dict[int, dict[str, list[list[str]]]] = {}
    for name, (zone, hours, buffer) in AGENTS.items():
        email = f"{name}@example.com"
        overrides = override_dates(first, zone, OVERRIDES[name])
        agent = connected_agent(
            calendar_sandbox,
            email,
            time_zone=zone,
            hours=hours,
            buffer_minutes=buffer,
            date_overrides=overrides,
        )
        dates[agent.pk] = overrides
        busy[agent.pk] = external_busy(rng, first)
        calendar_sandbox.set_busy(email, busy[agent.pk])
        rules[agent.pk] = (zone, hours, buffer)
    grid = [first + timedelta(minutes=30 * index) for index in range(7 * 48)]

    booked, refused = 0, 0
    for index in range(BOOKINGS):
        try:
            book(request(site.pk, rng.choice(grid), lead_email=f"v{index}@example.com"))
            booked += 1
        except BookingRefused:
            refused += 1

    meetings = list(Meeting.objects.taking_place().order_by("agent_id", "starts_at"))
    assert booked == len(meetings)
    assert booked > 150, (booked, refused)
    outside = []
    by_agent: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in meetings:
        zone, hours, buffer = rules[meeting.agent_id]
        after = meeting.ends_at + timedelta(minutes=buffer)
        overrides = dates[meeting.agent_id]
        if not inside_working_hours(meeting.starts_at, meeting.ends_at, zone, hours, overrides):
            outside.append((meeting.pk, "outside working hours"))
        if any(b0 < after and b1 > meeting.starts_at for b0, b1 in busy[meeting.agent_id]):
            outside.append((meeting.pk, "over an external busy event"))
        if meeting.starts_at < meeting.created_at + timedelta(hours=24):
            outside.append((meeting.pk, "inside the minimum notice"))
        earlier = by_agent[meeting.agent_id]
        if earlier and meeting.starts_at < earlier[-1].ends_at + timedelta(minutes=buffer):
            outside.append((meeting.pk, "overlaps or follows too closely"))
        earlier.append(meeting)
    assert outside == []
    assert all(meeting.starts_at.tzinfo is not None for meeting in meetings)
    assert {meeting.starts_at.astimezone(UTC).minute for meeting in meetings} <= {0, 30}
