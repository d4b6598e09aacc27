"""A meeting's life after booking: cancel, no-show, roll-over, holds, Marketo write-back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from dynchat.models import Role, Site, User
from meetings import effects, services
from meetings.models import Meeting, MeetingStatus
from meetings.signals import meeting_cancelled
from routing.models import Rotation
from sync.models import OutboxKind, OutboxMessage

pytestmark = pytest.mark.django_db


def make_meeting(
    site: Site,
    agent: User,
    *,
    start: datetime | None = None,
    minutes: int = 30,
    status: str = MeetingStatus.UPCOMING,
    **fields: Any,
) -> Meeting:
    """A meeting row as booking writes it (without the booking machinery)."""
    start = start or timezone.now().replace(microsecond=0) + timedelta(days=2)
    fields.setdefault("lead_email", "ada@example.com")
    fields.setdefault("lead_name", "Ada Lovelace")
    return Meeting.objects.create(
        site=site,
        agent=agent,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        status=status,
        **fields,
    )


def book(meeting: Meeting, capture: Callable[..., Any]) -> Meeting:
    """Run the booking follow-ups as the booking transaction does, and its on-commit tasks."""
    with capture(execute=True), transaction.atomic():
        effects.on_booked(meeting)
    meeting.refresh_from_db()
    return meeting


def test_cancelling_marks_the_meeting_and_tells_the_visitor(
    site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = book(make_meeting(site, agent), django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(meeting.pk, by=agent)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert meeting.cancelled_at is not None
    assert meeting.ics_sequence == 1
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert "Cancelled" in mail.outbox[0].subject


def test_a_meeting_is_cancelled_only_once(site: Site, agent: User) -> None:
    meeting = make_meeting(site, agent)
    services.cancel(meeting.pk, by=None)
    with pytest.raises(services.MeetingClosed):
        services.cancel(meeting.pk, by=None)


def test_cancelling_announces_it_to_routing_once_committed(
    site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    heard: list[tuple[int, int]] = []

    def receiver(sender: Any, meeting_id: int, agent_id: int, **kwargs: Any) -> None:
        heard.append((meeting_id, agent_id))

    meeting_cancelled.connect(receiver, weak=False)
    try:
        meeting = make_meeting(site, agent)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.cancel(meeting.pk, by=agent)
        assert heard == []
        for callback in callbacks:
            callback()
    finally:
        meeting_cancelled.disconnect(receiver)
    assert heard == [(meeting.pk, agent.pk)]


def test_the_agent_marks_a_started_meeting_as_a_no_show(site: Site, agent: User) -> None:
    meeting = make_meeting(site, agent, start=timezone.now() - timedelta(minutes=10))
    services.mark_no_show(meeting.pk, agent)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.NO_SHOW
    assert meeting.took_place is False


def test_a_meeting_that_has_not_started_cannot_be_a_no_show(site: Site, agent: User) -> None:
    meeting = make_meeting(site, agent)
    with pytest.raises(services.MeetingClosed):
        services.mark_no_show(meeting.pk, agent)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.UPCOMING


def test_an_agent_cannot_mark_another_agents_meeting(site: Site, agent: User) -> None:
    other = User.objects.create_user("bo@example.com", "pw", name="Bo", role=Role.AGENT)
    meeting = make_meeting(site, other, start=timezone.now() - timedelta(hours=1))
    with pytest.raises(Http404):
        services.mark_no_show(meeting.pk, agent)


def test_roll_over_completes_ended_meetings_and_removes_expired_holds(
    site: Site, agent: User
) -> None:
    now = timezone.now()
    ended = make_meeting(site, agent, start=now - timedelta(hours=2))
    running = make_meeting(site, agent, start=now - timedelta(minutes=10))
    later = make_meeting(site, agent, start=now + timedelta(days=1))
    expired = make_meeting(
        site,
        agent,
        start=now + timedelta(days=3),
        status=MeetingStatus.HELD,
        hold_expires_at=now - timedelta(seconds=1),
    )
    live = make_meeting(
        site,
        agent,
        start=now + timedelta(days=4),
        status=MeetingStatus.HELD,
        hold_expires_at=now + timedelta(minutes=5),
    )
    result = services.roll_over(now)
    assert result == services.RollOver(completed=1, holds_removed=1)
    statuses = dict(Meeting.objects.values_list("pk", "status"))
    assert statuses == {
        ended.pk: MeetingStatus.COMPLETED,
        running.pk: MeetingStatus.UPCOMING,
        later.pk: MeetingStatus.UPCOMING,
        live.pk: MeetingStatus.HELD,
    }
    assert expired.pk not in statuses
    assert Meeting.objects.get(pk=ended.pk).took_place is True


def test_the_roll_over_task_runs_the_roll_over(site: Site, agent: User) -> None:
    from meetings.tasks import roll_over

    ended = make_meeting(site, agent, start=timezone.now() - timedelta(hours=2))
    roll_over.delay()
    ended.refresh_from_db()
    assert ended.status == MeetingStatus.COMPLETED


def test_booking_queues_the_scheduled_meeting_activity_for_marketo(
    site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = book(make_meeting(site, agent), django_capture_on_commit_callbacks)
    activity = OutboxMessage.objects.get(kind=OutboxKind.ACTIVITY)
    assert activity.email == "ada@example.com"
    assert activity.payload["activity"] == "meeting"
    assert activity.payload["attributes"]["agent"] == "Alex Agent"
    scheduled = datetime.fromisoformat(activity.payload["attributes"]["scheduledFor"])
    assert scheduled == meeting.starts_at
    assert not OutboxMessage.objects.filter(kind=OutboxKind.PUSH_LEAD).exists()


def test_booking_twice_queues_one_activity(
    site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = make_meeting(site, agent)
    book(meeting, django_capture_on_commit_callbacks)
    book(meeting, django_capture_on_commit_callbacks)
    assert OutboxMessage.objects.filter(kind=OutboxKind.ACTIVITY).count() == 1


def test_the_agent_lead_field_gets_the_agents_email_when_set(
    site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    Rotation.objects.update_or_create(pk=1, defaults={"agent_lead_field": "dynchatAgent"})
    book(make_meeting(site, agent), django_capture_on_commit_callbacks)
    push = OutboxMessage.objects.get(kind=OutboxKind.PUSH_LEAD)
    assert push.email == "ada@example.com"
    assert push.payload["fields"] == {"dynchatAgent": "alex@example.com"}
