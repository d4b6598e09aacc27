"""RR-2, RR-3: round robin under concurrent bookings stays fair and never double-books."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from dynchat.models import Site
from meetings.models import Meeting
from routing.assignment import BookingResult, book
from tests.calendars.factories import connected_agent
from tests.meetings import failures, refusals, request, slot, together

AGENTS = ("ann", "ben", "cai", "dee")


@pytest.fixture(autouse=True)
def patient_calendars(calendar_settings: Any, settings: Any) -> None:
    """Many bookings at once on a small machine: the sandbox may take longer than the 1 s the
    timeout tests use; these tests are about the database, not about slow calendars."""
    settings.CALENDAR_TIMEOUT_SECONDS = 15


def four_agents(sandbox: Any) -> list[int]:
    return [connected_agent(sandbox, f"{name}@example.com").pk for name in AGENTS]


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(600)
def test_concurrent_bookings_in_distinct_slots_stay_within_three_of_each_other(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """RR-2: 400 bookings in distinct slots, 20 at a time: at every point the busiest agent is
    at most 3 meetings ahead of the least busy, and each ends with 100 ± 3."""
    agents = four_agents(calendar_sandbox)
    first = slot(days=2, hour=0)
    starts = [first + timedelta(minutes=30 * index) for index in range(400)]

    for batch in range(0, 400, 20):

        def visitor(index: int, batch: int = batch) -> BookingResult:
            number = batch + index
            return book(request(site.pk, starts[number], lead_email=f"v{number}@example.com"))

        outcomes = together(20, visitor)
        assert failures(outcomes) == []
        assert refusals(outcomes) == []

    counts = Counter(dict.fromkeys(agents, 0))
    for agent in Meeting.objects.order_by("pk").values_list("agent_id", flat=True):
        counts[agent] += 1
        assert max(counts.values()) - min(counts.values()) <= 3
    assert all(97 <= counts[agent] <= 103 for agent in agents), counts
    assert Meeting.objects.taking_place().count() == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_one_slot_wanted_by_twenty_goes_once_to_each_of_four_agents(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """RR-3: the same slot, 4 free agents, 20 visitors at once: 4 bookings with 4 distinct
    agents, 16 refused with 409 slot_taken, no other error."""
    agents = four_agents(calendar_sandbox)
    start = slot(hour=10)

    outcomes = together(
        20, lambda index: book(request(site.pk, start, lead_email=f"v{index}@example.com"))
    )

    assert failures(outcomes) == []
    booked = [outcome.meeting for outcome in outcomes if isinstance(outcome, BookingResult)]
    assert sorted(meeting.agent_id for meeting in booked) == sorted(agents)
    assert refusals(outcomes) == ["slot_taken"] * 16
    assert Meeting.objects.filter(starts_at=start).count() == 4
