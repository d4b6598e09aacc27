"""B-3: a booking retried with the same Idempotency-Key answers the same meeting."""

from __future__ import annotations

from typing import Any

import pytest

from dynchat.models import Site
from meetings.models import Meeting
from meetings.refusals import BookingRefused
from routing.assignment import BookingResult, book
from tests.calendars.factories import connected_agent
from tests.meetings import failures, refusals, request, slot, together

RETRIES = 50


@pytest.fixture(autouse=True)
def patient_calendars(calendar_settings: Any, settings: Any) -> None:
    """Many bookings at once on a small machine: the sandbox may take longer than the 1 s the
    timeout tests use; these tests are about the database, not about slow calendars."""
    settings.CALENDAR_TIMEOUT_SECONDS = 15


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_fifty_concurrent_retries_make_one_meeting(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """B-3: the same key and body 50 times at once: one meeting, every answer names it,
    one created and 49 replays, no 409."""
    connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    retried = request(site.pk, slot(hour=10), idempotency_key="conversation-7:key-1")

    outcomes = together(RETRIES, lambda index: book(retried))

    assert failures(outcomes) == []
    assert refusals(outcomes) == []
    results = [outcome for outcome in outcomes if isinstance(outcome, BookingResult)]
    assert len({result.meeting.pk for result in results}) == 1
    assert sorted(result.created for result in results) == [False] * (RETRIES - 1) + [True]
    assert Meeting.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_key_with_another_body_is_refused(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """B-3: a reused key with a different body is 422 idempotency_mismatch; nothing is booked."""
    connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    first = book(request(site.pk, slot(hour=10), idempotency_key="conversation-7:key-1"))

    with pytest.raises(BookingRefused) as refused:
        book(request(site.pk, slot(hour=11), idempotency_key="conversation-7:key-1"))

    assert refused.value.code == "idempotency_mismatch"
    assert refused.value.status == 422
    assert list(Meeting.objects.values_list("pk", flat=True)) == [first.meeting.pk]


@pytest.mark.django_db(transaction=True)
def test_a_replay_answers_the_first_meeting_even_once_the_slot_is_gone(
    site: Site, calendar_sandbox: Any, calendar_settings: Any
) -> None:
    """B-3: a retry after success is answered from the stored meeting, not booked again."""
    connected_agent(calendar_sandbox, "ann@example.com", name="Ann")
    retried = request(site.pk, slot(hour=10), idempotency_key="conversation-7:key-1")
    first = book(retried)

    again = book(retried)

    assert again.meeting.pk == first.meeting.pk
    assert (first.created, again.created) == (True, False)
    assert Meeting.objects.count() == 1
