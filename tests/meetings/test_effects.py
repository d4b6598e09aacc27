"""Calendar events follow the booking's commit, retried and idempotent on the meeting id (B-8)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from calendars.sandbox.sandbox import CalendarSandbox
from dynchat.celery import app
from dynchat.models import DeadLetter, Site, User
from meetings import effects, services
from meetings.models import Meeting, MeetingStatus
from meetings.tasks import create_calendar_event
from tests.calendars.factories import connected_agent
from tests.meetings.test_lifecycle import make_meeting

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("calendar_settings", "eager_retries"),
]


@pytest.fixture
def eager_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eager tasks retry at once, as a worker would later, instead of raising Retry to us."""
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


INSERT = {"google": "google.events.insert", "microsoft": "graph.events.create"}


def booked(meeting: Meeting, capture: Any) -> Meeting:
    """Commit the booking, then run what it enqueued on commit (eager tasks, retries included)."""
    with capture(execute=True), transaction.atomic():
        effects.on_booked(meeting)
    meeting.refresh_from_db()
    return meeting


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_a_failing_calendar_insert_is_retried_into_exactly_one_event(
    calendar_sandbox: CalendarSandbox,
    site: Site,
    provider: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """B-8: the insert fails 3 times after the commit; the task retries with the meeting id as
    idempotency key; exactly one event, and the meeting stays upcoming throughout."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", provider=provider, name="Ann")
    calendar_sandbox.fault(INSERT[provider], "500", times=3)
    meeting = booked(make_meeting(site, ann), django_capture_on_commit_callbacks)

    assert meeting.status == MeetingStatus.UPCOMING
    assert calendar_sandbox.calls(INSERT[provider]) == 4
    [event] = calendar_sandbox.events("ann@example.com")
    assert meeting.calendar_event_id == event["id"]
    assert [attendee.lower() for attendee in attendees(event)] == ["ada@example.com"]
    assert len(mail.outbox) == 1, "the invitation does not wait for the calendar"


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_a_task_delivered_again_after_the_insert_makes_no_second_event(
    calendar_sandbox: CalendarSandbox,
    site: Site,
    provider: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """B-8: a worker that died after the provider answered, before saving the event id, runs the
    task again: the provider's idempotency on the meeting id returns the same event."""
    ann = connected_agent(calendar_sandbox, "ann@example.com", provider=provider)
    meeting = booked(make_meeting(site, ann), django_capture_on_commit_callbacks)
    first_id = meeting.calendar_event_id
    Meeting.objects.filter(pk=meeting.pk).update(calendar_event_id="")

    create_calendar_event.delay(meeting.pk)
    create_calendar_event.delay(meeting.pk)

    meeting.refresh_from_db()
    assert [event["id"] for event in calendar_sandbox.events("ann@example.com")] == [first_id]
    assert meeting.calendar_event_id == first_id


def test_cancelling_removes_the_event_from_the_agents_calendar(
    calendar_sandbox: CalendarSandbox, site: Site, django_capture_on_commit_callbacks: Any
) -> None:
    ann = connected_agent(calendar_sandbox, "ann@example.com")
    meeting = booked(make_meeting(site, ann), django_capture_on_commit_callbacks)
    assert len(calendar_sandbox.events("ann@example.com")) == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(meeting.pk, by=ann)

    assert calendar_sandbox.events("ann@example.com") == []
    meeting.refresh_from_db()
    assert meeting.calendar_event_id == ""


def test_a_calendar_that_needs_reconnecting_is_not_retried(
    calendar_sandbox: CalendarSandbox, site: Site, django_capture_on_commit_callbacks: Any
) -> None:
    ann = connected_agent(calendar_sandbox, "ann@example.com", expires_in=1)
    calendar_sandbox.revoke("ann@example.com")
    meeting = booked(make_meeting(site, ann), django_capture_on_commit_callbacks)

    assert meeting.status == MeetingStatus.UPCOMING
    assert meeting.calendar_event_id == ""
    assert calendar_sandbox.calls("google.events.insert") == 0
    assert [m.to for m in mail.outbox].count(["ada@example.com"]) == 1, "the visitor is invited"
    assert not DeadLetter.objects.exists(), "nothing to retry: the agent is told to reconnect"


def test_an_agent_without_a_calendar_still_gets_the_meeting_and_the_visitor_an_invitation(
    site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = booked(make_meeting(site, agent), django_capture_on_commit_callbacks)
    assert meeting.status == MeetingStatus.UPCOMING
    assert meeting.calendar_event_id == ""
    assert len(mail.outbox) == 1


def attendees(event: dict[str, Any]) -> list[str]:
    return [a["email"] if isinstance(a, dict) else str(a) for a in event.get("attendees", [])]
