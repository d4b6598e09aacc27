"""B-2: overlapping meetings of different lengths for one agent, booked at the same moment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from dynchat.models import Role, Site, User
from meetings.booking import insert_meeting
from meetings.models import Meeting
from meetings.refusals import BookingRefused
from tests.meetings import failures, refusals, slot, together

REPETITIONS = 100


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(240)
def test_only_one_of_two_overlapping_meetings_of_different_lengths_is_booked(site: Site) -> None:
    """B-2: 30 minutes at 10:00 and 60 minutes at 09:45 for one agent, released together 100
    times on fresh slots: exactly one succeeds each time (the exclusion constraint, not a key)."""
    agent = User.objects.create_user("ann@example.com", "pw", name="Ann", role=Role.AGENT)
    base = slot(days=2, hour=0)
    for repetition in range(REPETITIONS):
        ten = base + timedelta(hours=2 * repetition + 1)
        requested = [
            (ten, timedelta(minutes=30)),
            (ten - timedelta(minutes=15), timedelta(hours=1)),
        ]

        def book(index: int, requested: list = requested) -> Meeting:  # type: ignore[type-arg]
            start, length = requested[index]
            with transaction.atomic():
                return insert_meeting(
                    site_id=site.pk, agent_id=agent.pk, start=start, end=start + length
                )

        outcomes = together(2, book)

        assert failures(outcomes) == []
        assert refusals(outcomes) == ["slot_taken"]
        assert sum(isinstance(outcome, Meeting) for outcome in outcomes) == 1
    assert Meeting.objects.count() == REPETITIONS


@pytest.mark.django_db
def test_a_meeting_that_only_touches_another_is_booked(site: Site) -> None:
    """B-2: ranges are half-open, so 10:00-10:30 and 10:30-11:00 are both booked."""
    agent = User.objects.create_user("ann@example.com", "pw", name="Ann", role=Role.AGENT)
    ten = slot(hour=10)
    insert_meeting(site_id=site.pk, agent_id=agent.pk, start=ten, end=ten + timedelta(minutes=30))
    insert_meeting(
        site_id=site.pk,
        agent_id=agent.pk,
        start=ten + timedelta(minutes=30),
        end=ten + timedelta(hours=1),
    )

    with pytest.raises(BookingRefused) as refused:
        insert_meeting(
            site_id=site.pk,
            agent_id=agent.pk,
            start=ten + timedelta(minutes=15),
            end=ten + timedelta(minutes=45),
        )

    assert refused.value.code == "slot_taken"
    assert refused.value.status == 409
    assert Meeting.objects.count() == 2
