"""B-7: a cancelled meeting frees its slot; a reassigned one frees the first agent's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dynchat.models import Site, User
from meetings.models import Meeting, MeetingStatus
from meetings.refusals import BookingRefused
from meetings.services import cancel
from routing.assignment import book, reassign, reschedule
from routing.models import RotationMember
from tests.calendars.factories import connected_agent
from tests.meetings import request, slot


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_slot_can_be_booked_again_with_the_same_agent(
    site: Site, marketer: User, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """B-7: book, cancel, book the same slot with the same agent: both bookings succeed."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    start = slot(hour=10)
    first = book(request(site.pk, start, agent_id=ann.pk)).meeting
    cancel(first.pk, by=marketer)

    second = book(request(site.pk, start, agent_id=ann.pk, lead_email="other@example.com"))

    assert second.created
    assert second.meeting.agent_id == ann.pk
    statuses = dict(Meeting.objects.values_list("pk", "status"))
    assert statuses == {
        first.pk: MeetingStatus.CANCELLED,
        second.meeting.pk: MeetingStatus.UPCOMING,
    }


@pytest.mark.django_db(transaction=True)
def test_a_reassigned_slot_can_be_booked_again_with_the_first_agent(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """B-7: book with A, reassign to B, book the same slot with A: both meetings stand, and
    the turn moved from A to B."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    ben = connected_agent(calendar_sandbox, "ben@example.com", name="Ben")
    start = slot(hour=10)
    first = book(request(site.pk, start, agent_id=ann.pk)).meeting

    moved = reassign(first.pk, ben.pk)
    again = book(request(site.pk, start, agent_id=ann.pk, lead_email="other@example.com"))

    assert moved.agent_id == ben.pk
    assert again.meeting.agent_id == ann.pk
    assert Meeting.objects.taking_place().count() == 2
    meetings = dict(RotationMember.objects.values_list("agent_id", "meetings"))
    assert meetings == {ann.pk: 1, ben.pk: 1}


@pytest.mark.django_db(transaction=True)
def test_reassigning_onto_a_busy_agent_is_refused(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """B-7: reassigning to an agent who has a meeting then is a 409, not an IntegrityError."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    ben = connected_agent(calendar_sandbox, "ben@example.com", name="Ben")
    start = slot(hour=10)
    first = book(request(site.pk, start, agent_id=ann.pk)).meeting
    book(request(site.pk, start, agent_id=ben.pk, lead_email="other@example.com"))

    with pytest.raises(BookingRefused) as refused:
        reassign(first.pk, ben.pk)

    assert refused.value.code == "slot_taken"
    assert Meeting.objects.get(pk=first.pk).agent_id == ann.pk


@pytest.mark.django_db(transaction=True)
def test_rescheduling_moves_the_meeting_and_keeps_the_turns(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """A rescheduled meeting gives way to a new one with the same agent and lead, linked to it;
    the new time may overlap the old one, and the agent's meeting count is unchanged."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    start = slot(hour=10)
    first = book(request(site.pk, start, agent_id=ann.pk)).meeting

    moved = reschedule(first.pk, start + timedelta(minutes=30))

    first.refresh_from_db()
    assert first.status == MeetingStatus.RESCHEDULED
    assert moved.rescheduled_from_id == first.pk
    assert (moved.agent_id, moved.lead_email) == (ann.pk, first.lead_email)
    assert moved.starts_at == start + timedelta(minutes=30)
    assert RotationMember.objects.get(agent=ann).meetings == 1
