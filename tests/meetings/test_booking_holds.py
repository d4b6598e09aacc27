"""B-4: a hold keeps a slot for one visitor a few minutes; confirming it is a compare-and-set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from dynchat.models import Site
from meetings.models import Meeting, MeetingStatus
from meetings.refusals import BookingRefused
from routing.assignment import BookingResult, book, hold
from routing.models import RotationMember
from tests.calendars.factories import connected_agent
from tests.meetings import failures, refusals, request, slot, together


@pytest.fixture(autouse=True)
def patient_calendars(calendar_settings: Any, settings: Any) -> None:
    """Many bookings at once on a small machine: the sandbox may take longer than the 1 s the
    timeout tests use; these tests are about the database, not about slow calendars."""
    settings.CALENDAR_TIMEOUT_SECONDS = 15


@pytest.fixture
def ann(calendar_sandbox: Any, calendar_settings: Any) -> Any:
    return connected_agent(calendar_sandbox, "ann@example.com", name="Ann")


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_two_concurrent_confirmations_of_one_hold_book_it_once(site: Site, ann: Any) -> None:
    """B-4 (a): confirming a hold twice at once: one meeting, the other answer a 409."""
    start = slot(hour=10)
    held = hold(site_id=site.pk, start=start, duration_minutes=30, visitor_key="visitor-1")

    outcomes = together(
        2,
        lambda index: book(request(site.pk, start, hold_id=held.pk, idempotency_key=f"k-{index}")),
    )

    assert failures(outcomes) == []
    assert sum(isinstance(outcome, BookingResult) for outcome in outcomes) == 1
    assert refusals(outcomes) == ["slot_taken"]
    meeting = Meeting.objects.get()
    assert (meeting.pk, meeting.status) == (held.pk, MeetingStatus.UPCOMING)
    assert meeting.agent_id == ann.pk


@pytest.mark.django_db(transaction=True)
def test_a_hold_confirmed_after_it_expired_is_refused(site: Site, ann: Any) -> None:
    """B-4 (b): confirming after the hold's time is up is 409 hold_expired; nothing is booked."""
    start = slot(hour=10)
    now = timezone.now()
    held = hold(site_id=site.pk, start=start, duration_minutes=30, visitor_key="v-1", now=now)
    later = now + timedelta(seconds=settings.BOOKING_HOLD_SECONDS + 1)

    with pytest.raises(BookingRefused) as refused:
        book(request(site.pk, start, hold_id=held.pk), now=later)

    assert (refused.value.code, refused.value.status) == ("hold_expired", 409)
    assert not Meeting.objects.taking_place().exists()


@pytest.mark.django_db(transaction=True)
def test_another_visitor_cannot_hold_a_held_slot_until_it_expires(site: Site, ann: Any) -> None:
    """B-4 (c): a second visitor gets 409 slot_held while the hold lives, and the slot after."""
    start = slot(hour=10)
    now = timezone.now()
    first = hold(site_id=site.pk, start=start, duration_minutes=30, visitor_key="v-1", now=now)

    with pytest.raises(BookingRefused) as refused:
        hold(site_id=site.pk, start=start, duration_minutes=30, visitor_key="v-2", now=now)
    assert (refused.value.code, refused.value.status) == ("slot_held", 409)
    with pytest.raises(BookingRefused) as booking_refused:
        book(request(site.pk, start), now=now)
    assert booking_refused.value.code == "slot_held"

    later = now + timedelta(seconds=settings.BOOKING_HOLD_SECONDS + 1)
    second = hold(site_id=site.pk, start=start, duration_minutes=30, visitor_key="v-2", now=later)

    assert second.pk != first.pk
    assert second.agent_id == ann.pk
    assert second.status == MeetingStatus.HELD


@pytest.mark.django_db(transaction=True)
def test_holding_again_keeps_one_hold_per_visitor(site: Site, ann: Any) -> None:
    """A visitor holding the same slot twice keeps one hold; picking another time moves it."""
    start = slot(hour=10)
    first = hold(site_id=site.pk, start=start, duration_minutes=30, visitor_key="v-1")
    again = hold(site_id=site.pk, start=start, duration_minutes=30, visitor_key="v-1")
    moved = hold(
        site_id=site.pk, start=start + timedelta(hours=1), duration_minutes=30, visitor_key="v-1"
    )

    assert again.pk == first.pk
    assert list(Meeting.objects.values_list("pk", flat=True)) == [moved.pk]


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_hold_is_a_meeting_with_the_visitors_details(site: Site, ann: Any) -> None:
    """Confirming turns the hold into the upcoming meeting, credited to the agent's turn."""
    start = slot(hour=10)
    held = hold(site_id=site.pk, start=start, duration_minutes=30, visitor_key="v-1")

    result = book(request(site.pk, start, hold_id=held.pk, lead_email="lea@example.com"))

    meeting = Meeting.objects.get()
    assert (result.meeting.pk, result.created) == (held.pk, True)
    assert meeting.status == MeetingStatus.UPCOMING
    assert meeting.lead_email == "lea@example.com"
    assert meeting.hold_expires_at is None
    assert RotationMember.objects.get(agent=ann).meetings == 1
