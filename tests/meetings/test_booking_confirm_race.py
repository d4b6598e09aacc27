"""B-5: two overlapping holds of one agent, confirmed by many requests at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from dynchat.models import Site
from meetings.booking import insert_meeting
from meetings.models import Meeting, MeetingStatus
from routing.assignment import BookingResult, book
from tests.calendars.factories import connected_agent
from tests.meetings import failures, refusals, request, slot, together

CONFIRMATIONS = 20


@pytest.fixture(autouse=True)
def patient_calendars(calendar_settings: Any, settings: Any) -> None:
    """Many bookings at once on a small machine: the sandbox may take longer than the 1 s the
    timeout tests use; these tests are about the database, not about slow calendars."""
    settings.CALENDAR_TIMEOUT_SECONDS = 15


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_one_of_two_overlapping_holds_is_confirmed(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """B-5: 20 concurrent confirmations split across two overlapping holds of one agent:
    exactly one meeting overlaps that time, the other confirmations are 409."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    ten = slot(hour=10)
    expires = timezone.now() + timedelta(seconds=settings.BOOKING_HOLD_SECONDS)
    holds = [
        insert_meeting(
            site_id=site.pk,
            agent_id=ann.pk,
            start=start,
            end=start + timedelta(minutes=30),
            status=MeetingStatus.HELD,
            hold_expires_at=expires,
            routing_detail={"visitor": f"visitor-{index}"},
        )
        for index, start in enumerate([ten, ten + timedelta(minutes=15)])
    ]

    def confirm(index: int) -> BookingResult:
        held = holds[index % 2]
        return book(
            request(site.pk, held.starts_at, hold_id=held.pk, lead_email=f"v{index}@example.com")
        )

    outcomes = together(CONFIRMATIONS, confirm)

    assert failures(outcomes) == []
    assert sum(isinstance(outcome, BookingResult) for outcome in outcomes) == 1
    assert set(refusals(outcomes)) == {"slot_taken"}
    assert len(refusals(outcomes)) == CONFIRMATIONS - 1
    overlapping = Meeting.objects.taking_place().overlapping(ten, ten + timedelta(minutes=45))
    assert overlapping.filter(agent=ann).count() == 1
