"""B-6: the agent's calendar changes between showing the slots and booking one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dynchat.models import Site
from meetings.models import Meeting
from meetings.refusals import BookingRefused
from routing.assignment import book, offer_slots
from tests.calendars.factories import connected_agent
from tests.meetings import request, slot


@pytest.mark.django_db(transaction=True)
def test_a_slot_taken_in_the_calendar_since_it_was_shown_is_refused(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """B-6: free when the slots were listed, busy at booking time: 409 agent_busy, no meeting,
    no calendar event."""
    connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    start = slot(hour=10)
    assert start in offer_slots().starts
    calendar_sandbox.add_busy(
        "ann@example.com", start - timedelta(minutes=10), start + timedelta(minutes=20)
    )

    with pytest.raises(BookingRefused) as refused:
        book(request(site.pk, start))

    assert (refused.value.code, refused.value.status) == ("agent_busy", 409)
    assert not Meeting.objects.exists()
    assert calendar_sandbox.events("ann@example.com") == []
    assert calendar_sandbox.calls("google.events.insert") == 0


@pytest.mark.django_db(transaction=True)
def test_round_robin_passes_over_an_agent_busy_in_their_calendar(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """B-6: with two agents, the one whose calendar filled up is skipped and the reason says so."""
    connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    ben = connected_agent(calendar_sandbox, "ben@example.com", name="Ben")
    start = slot(hour=10)
    calendar_sandbox.add_busy("ann@example.com", start, start + timedelta(minutes=30))

    meeting = book(request(site.pk, start)).meeting

    assert meeting.agent_id == ben.pk
    assert meeting.reason == "next in rotation (skipped Ann: busy in their calendar)"
    assert meeting.routing_detail["skipped"] == [
        {"agent": meeting.routing_detail["order"][0], "why": "busy in their calendar"}
    ]


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_calendar_refuses_with_503(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """Fail closed: when the only calendar does not answer, nothing is booked (503)."""
    connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    calendar_sandbox.fault("google.freebusy", "503", times=10)

    with pytest.raises(BookingRefused) as refused:
        book(request(site.pk, slot(hour=10)))

    assert (refused.value.code, refused.value.status) == ("calendar_unavailable", 503)
    assert not Meeting.objects.exists()
