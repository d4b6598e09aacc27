"""What follows a booking or a cancellation outside the database: calendar events, e-mails,
Marketo.

``on_booked`` and ``on_cancelled`` run inside the transaction that changes the meeting: they write
what must commit with it (the iCalendar UID, the Marketo outbox rows) and enqueue the tasks on
commit. The tasks call the functions below, which are idempotent on the meeting id: a retried or
redelivered task never makes a second calendar event (the provider call is idempotent too, B-8).
"""

from __future__ import annotations

import logging
from datetime import UTC

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calendars.models import BookingRules, CalendarConnection
from calendars.providers import provider_for
from calendars.providers.base import EventRequest
from calendars.tokens import access_token
from meetings import tasks
from meetings.models import Meeting, MeetingStatus
from sync.outbox import ChatActivity, queue_chat_activity, queue_lead_push

logger = logging.getLogger("meetings.effects")


def ics_uid_for(meeting_id: int) -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"dynchat-meeting-{meeting_id}@{host or 'dynchat'}"


def agent_lead_field() -> str:
    """The Marketo lead field that gets the agent's e-mail, as the routing page sets it."""
    # Read by name: the rotation's settings belong to routing, which meetings does not import.
    rotation = apps.get_model("routing", "Rotation").current()
    return str(rotation.agent_lead_field or "")


def on_booked(meeting: Meeting, *, lead_field: str | None = None) -> None:
    """Record a new (or moved) meeting's follow-ups; call it in the transaction that booked it.

    A meeting that replaces a rescheduled one keeps its iCalendar UID with the next SEQUENCE, so
    the visitor's calendar moves the entry, and the old calendar event is deleted.
    """
    previous = meeting.rescheduled_from
    if not meeting.ics_uid:
        if previous is not None and previous.ics_uid:
            meeting.ics_uid = previous.ics_uid
            meeting.ics_sequence = previous.ics_sequence + 1
        else:
            meeting.ics_uid = ics_uid_for(meeting.pk)
        meeting.save(update_fields=["ics_uid", "ics_sequence", "updated_at"])
    if meeting.lead_email:
        _queue_write_back(meeting, lead_field)
    meeting_id = meeting.pk
    tasks.create_calendar_event.delay_on_commit(meeting_id)
    tasks.send_invitation.delay_on_commit(meeting_id)
    if previous is not None:
        tasks.delete_calendar_event.delay_on_commit(previous.pk)


def on_reassigned(meeting: Meeting, previous_agent_id: int) -> None:
    """A meeting moved to another agent: its event leaves the previous agent's calendar and is
    made in the new one's, and the visitor gets the invitation again (next SEQUENCE, same UID).
    Call it in the transaction that reassigned the meeting."""
    old_event = meeting.calendar_event_id
    meeting.calendar_event_id = ""
    meeting.join_url = ""
    meeting.ics_uid = meeting.ics_uid or ics_uid_for(meeting.pk)
    meeting.ics_sequence += 1
    meeting.save(
        update_fields=["calendar_event_id", "join_url", "ics_uid", "ics_sequence", "updated_at"]
    )
    if old_event:
        tasks.remove_agent_event.delay_on_commit(previous_agent_id, old_event)
    tasks.create_calendar_event.delay_on_commit(meeting.pk)
    tasks.send_invitation.delay_on_commit(meeting.pk)


def _queue_write_back(meeting: Meeting, lead_field: str | None) -> None:
    agent = meeting.agent
    queue_chat_activity(
        email=meeting.lead_email,
        activity=ChatActivity.MEETING,
        dialogue=meeting.dialogue.name if meeting.dialogue else "",
        attributes={
            "agent": agent.name or agent.email,
            "scheduledFor": meeting.starts_at.astimezone(UTC).isoformat(),
            "status": "rescheduled" if meeting.rescheduled_from_id else "booked",
        },
        occurred_at=meeting.created_at,
        key=f"meeting-booked:{meeting.pk}",
    )
    field = agent_lead_field() if lead_field is None else lead_field
    if field:
        queue_lead_push(
            email=meeting.lead_email,
            fields={field: agent.email},
            reason="Meeting booked in chat",
            key=f"meeting-agent:{meeting.pk}",
        )


def on_cancelled(meeting: Meeting) -> None:
    """Remove the calendar event and tell the visitor; call it in the cancelling transaction."""
    if meeting.lead_email:
        queue_chat_activity(
            email=meeting.lead_email,
            activity=ChatActivity.MEETING,
            dialogue=meeting.dialogue.name if meeting.dialogue else "",
            attributes={
                "agent": meeting.agent.name or meeting.agent.email,
                "scheduledFor": meeting.starts_at.astimezone(UTC).isoformat(),
                "status": "cancelled",
            },
            occurred_at=meeting.cancelled_at or timezone.now(),
            key=f"meeting-cancelled:{meeting.pk}",
        )
    tasks.delete_calendar_event.delay_on_commit(meeting.pk)
    tasks.send_cancellation.delay_on_commit(meeting.pk)


def _connection(agent_id: int) -> CalendarConnection | None:
    return CalendarConnection.objects.active().filter(agent_id=agent_id).first()


def event_request(meeting: Meeting, rules: BookingRules) -> EventRequest:
    lead = meeting.lead_name or meeting.lead_email
    return EventRequest(
        meeting_id=meeting.pk,
        ics_uid=meeting.ics_uid or ics_uid_for(meeting.pk),
        start=meeting.starts_at,
        end=meeting.ends_at,
        summary=f"{rules.meeting_title} with {lead}" if lead else rules.meeting_title,
        description=f"Booked in chat by {lead}." if lead else "Booked in chat.",
        attendee_email=meeting.lead_email,
        attendee_name=meeting.lead_name,
        video_link=rules.add_video_link,
    )


def create_calendar_event(meeting_id: int) -> str:
    """Put an upcoming meeting in its agent's calendar once; return the event id ("" if none).

    Runs outside any transaction (tokens may be refreshed). Raises the provider's errors:
    ProviderUnavailable and CalendarError are worth a retry, NeedsReconnect is not.
    """
    meeting = Meeting.objects.select_related("agent").get(pk=meeting_id)
    if meeting.status != MeetingStatus.UPCOMING or meeting.calendar_event_id:
        return meeting.calendar_event_id
    connection = _connection(meeting.agent_id)
    if connection is None:
        logger.warning("meeting %s: agent %s has no calendar", meeting_id, meeting.agent_id)
        return ""
    rules, _ = BookingRules.objects.get_or_create(agent_id=meeting.agent_id)
    provider = provider_for(connection.provider)
    token = access_token(connection.pk)
    created = provider.create_event(token, event_request(meeting, rules))
    stored = Meeting.objects.filter(
        pk=meeting_id, status=MeetingStatus.UPCOMING, calendar_event_id=""
    ).update(
        calendar_event_id=created.event_id, join_url=created.join_url, updated_at=timezone.now()
    )
    if not stored and not _still_upcoming(meeting_id):
        # Cancelled while the event was being made: take it out again.
        provider.delete_event(token, created.event_id)
        return ""
    return created.event_id


def _still_upcoming(meeting_id: int) -> bool:
    return Meeting.objects.filter(pk=meeting_id, status=MeetingStatus.UPCOMING).exists()


def remove_agent_event(agent_id: int, event_id: str) -> bool:
    """Delete one event from an agent's calendar (a meeting reassigned away from them)."""
    connection = _connection(agent_id)
    if connection is None:
        return False
    provider_for(connection.provider).delete_event(access_token(connection.pk), event_id)
    return True


def delete_calendar_event(meeting_id: int) -> bool:
    """Take a cancelled or moved meeting out of its agent's calendar; False if nothing to do."""
    meeting = Meeting.objects.get(pk=meeting_id)
    if meeting.status == MeetingStatus.UPCOMING or not meeting.calendar_event_id:
        return False
    connection = _connection(meeting.agent_id)
    if connection is None:
        return False
    event_id = meeting.calendar_event_id
    provider_for(connection.provider).delete_event(access_token(connection.pk), event_id)
    with transaction.atomic():
        Meeting.objects.filter(pk=meeting_id, calendar_event_id=event_id).update(
            calendar_event_id="", updated_at=timezone.now()
        )
    return True
