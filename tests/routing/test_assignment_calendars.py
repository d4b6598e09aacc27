"""RR-6: an agent whose calendar is revoked gets no meetings until they reconnect."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from calendars.models import CalendarConnection, ConnectionStatus
from dynchat.models import Site
from meetings.models import Meeting
from meetings.refusals import BookingRefused
from routing.assignment import book, offer_slots
from tests.calendars.factories import connected_agent
from tests.meetings import request, slot


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_a_revoked_calendar_takes_its_agent_out_of_the_next_booking(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """RR-6: the token endpoint answers invalid_grant: that agent is passed over at the very
    next booking (fail closed), the others stay bookable, and 0 meetings go to them while
    disconnected."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    ben = connected_agent(calendar_sandbox, "ben@example.com", name="Ben")
    cai = connected_agent(calendar_sandbox, "cai@example.com", name="Cai")
    first = slot(days=2, hour=0)
    starts = iter(first + timedelta(minutes=30 * index) for index in range(100))
    for index in range(3):  # one turn each: Ann is next again
        book(request(site.pk, next(starts), lead_email=f"warm{index}@example.com"))
    calendar_sandbox.revoke("ann@example.com")
    # Her access token has run out: the next use goes to the token endpoint.
    CalendarConnection.objects.filter(agent=ann).update(access_expires_at=timezone.now())

    meeting = book(request(site.pk, next(starts))).meeting

    assert meeting.agent_id == ben.pk
    detail = meeting.routing_detail
    # Passed over as unavailable, or already out of the rotation when the lock was taken.
    skipped = {"agent": ann.pk, "why": "calendar unavailable"} in detail["skipped"]
    assert skipped or ann.pk not in detail["order"]
    assert CalendarConnection.objects.get(agent=ann).status == ConnectionStatus.NEEDS_RECONNECT
    later = [
        book(request(site.pk, next(starts), lead_email=f"v{index}@example.com")).meeting
        for index in range(30)
    ]
    counts = Counter(meeting.agent_id for meeting in later)
    assert counts[ann.pk] == 0
    assert counts[ben.pk] == counts[cai.pk] == 15
    assert Meeting.objects.filter(agent=ann).count() == 1  # her one meeting from before
    assert offer_slots().starts, "the others still offer slots"


@pytest.mark.django_db(transaction=True)
def test_a_named_agent_with_a_revoked_calendar_offers_nothing(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """RR-6: fail closed for a named agent too: no slots (unavailable), and booking is a 503."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", name="Ann", expires_in=30)
    calendar_sandbox.revoke("ann@example.com")

    offer = offer_slots(agent_id=ann.pk)
    with pytest.raises(BookingRefused) as refused:
        book(request(site.pk, slot(hour=10), agent_id=ann.pk))

    assert (offer.starts, offer.unavailable) == ([], True)
    assert refused.value.code == "calendar_unavailable"
    assert not Meeting.objects.exists()
