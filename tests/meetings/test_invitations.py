"""The visitor's invitation: an iCalendar REQUEST (CANCEL on cancel), one e-mail per booking,
and the agent's text with its tokens filled in as plain text (W-3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from icalendar import Calendar

from calendars.invitations import Invitation, invitation_ics, render_invitation, render_tokens
from calendars.models import BookingRules
from dynchat.models import Site, User
from meetings import services
from meetings.models import MeetingStatus
from meetings.tasks import send_invitation
from tests.meetings.test_lifecycle import book, make_meeting

START = datetime(2030, 12, 3, 9, 0, tzinfo=UTC)
INJECTIONS = ["{{ request }}", "{% debug %}", "${7*7}", "{{ settings.SECRET_KEY }}"]


def invitation(**fields: Any) -> Invitation:
    values: dict[str, Any] = {
        "uid": "dynchat-meeting-7@testserver",
        "sequence": 0,
        "start": START,
        "end": START + timedelta(minutes=30),
        "summary": "Demo with Alex",
        "description": "See you then.",
        "organizer_email": "alex@example.com",
        "organizer_name": "Alex Agent",
        "attendee_email": "ada@example.com",
        "attendee_name": "Ada Lovelace",
    }
    values.update(fields)
    return Invitation(**values)


def event_of(ics: bytes | str) -> Any:
    calendar = Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_the_ics_is_a_request_with_uid_sequence_organizer_and_attendee() -> None:
    calendar, event = event_of(invitation_ics(invitation(), "REQUEST"))
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == "dynchat-meeting-7@testserver"
    assert event["SEQUENCE"] == 0
    assert str(event["ORGANIZER"]) == "mailto:alex@example.com"
    assert event["ORGANIZER"].params["CN"] == "Alex Agent"
    assert str(event["ATTENDEE"]) == "mailto:ada@example.com"
    assert event["ATTENDEE"].params["RSVP"] == "TRUE"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(minutes=30)
    assert b"DTSTART:20301203T090000Z" in invitation_ics(invitation())


def test_a_cancellation_is_a_cancel_of_the_same_uid_with_a_higher_sequence() -> None:
    calendar, event = event_of(invitation_ics(invitation(sequence=1), "CANCEL"))
    assert calendar["METHOD"] == "CANCEL"
    assert str(event["UID"]) == "dynchat-meeting-7@testserver"
    assert event["SEQUENCE"] == 1
    assert event["STATUS"] == "CANCELLED"


def test_tokens_take_values_and_defaults() -> None:
    context = {"lead.firstName": "", "agent.name": "Alex", "meeting.duration": "30"}
    text = 'Hi {{lead.firstName:"there"}}, {{ agent.name }} for {{meeting.duration}} minutes.'
    assert render_tokens(text, context) == "Hi there, Alex for 30 minutes."


@pytest.mark.parametrize("injection", INJECTIONS)
def test_template_syntax_in_the_agents_text_stays_text(injection: str) -> None:
    """W-3: the agent's subject and body are never evaluated as a template."""
    rules = BookingRules(
        invitation_subject=f"Demo {injection}", invitation_body=f"Body {injection}"
    )
    subject, body = render_invitation(rules, {"lead.firstName": "Ada"})
    assert subject == f"Demo {injection}"
    assert body == f"Body {injection}"


def test_a_value_cannot_add_lines_to_the_subject() -> None:
    rules = BookingRules(invitation_subject="Demo with {{lead.firstName}}", invitation_body="")
    subject, _ = render_invitation(rules, {"lead.firstName": "Ada\r\nBcc: all@example.com"})
    assert subject == "Demo with Ada Bcc: all@example.com"


@pytest.mark.django_db
def test_booking_sends_one_invitation_with_a_request_attachment(
    site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = book(make_meeting(site, agent), django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.reply_to == ["alex@example.com"]
    assert message.subject == "Meeting with Alex Agent"
    assert "Hi Ada," in message.body
    assert "https://testserver/meeting/" in message.body
    assert "/cancel/" in message.body
    assert "/reschedule/" in message.body
    ics = attachment(message, "text/calendar")
    assert "method=REQUEST" in ics["content_type"].replace('"', "")
    calendar, event = event_of(ics["content"])
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == meeting.ics_uid != ""
    assert event.decoded("DTSTART") == meeting.starts_at


@pytest.mark.django_db
def test_the_invitation_task_run_twice_sends_one_email(
    site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = book(make_meeting(site, agent), django_capture_on_commit_callbacks)
    send_invitation.delay(meeting.pk)
    send_invitation.delay(meeting.pk)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_cancelling_sends_a_cancel_for_the_same_meeting(
    site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = book(make_meeting(site, agent), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(meeting.pk, by=None)
    assert services.send_cancellation(meeting.pk) is False, "sent once only"
    _invitation, cancel = mail.outbox
    calendar, event = event_of(attachment(cancel, "text/calendar")["content"])
    assert calendar["METHOD"] == "CANCEL"
    assert str(event["UID"]) == meeting.ics_uid
    assert event["SEQUENCE"] == 1
    assert "is cancelled" in cancel.body


@pytest.mark.django_db
def test_no_invitation_without_an_email_or_for_a_cancelled_meeting(site: Site, agent: User) -> None:
    nameless = make_meeting(site, agent, lead_email="")
    cancelled = make_meeting(
        site, agent, start=START + timedelta(days=400), status=MeetingStatus.CANCELLED
    )
    assert services.send_invitation(nameless.pk) is False
    assert services.send_invitation(cancelled.pk) is False
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("injection", INJECTIONS)
def test_visitor_and_agent_text_reach_the_email_literally(
    site: Site, agent: User, injection: str, django_capture_on_commit_callbacks: Any
) -> None:
    """W-3: template syntax from the visitor (name) or the agent (body) is sent as typed."""
    BookingRules.objects.create(
        agent=agent,
        invitation_subject="Demo",
        invitation_body=f"Hello {{{{lead.firstName}}}} {{{{lead.lastName}}}}! {injection}",
    )
    meeting = make_meeting(site, agent, lead_name=f"Ada {injection}")
    book(meeting, django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert f"Hello Ada {injection}! {injection}" in message.body
    assert "WSGIRequest" not in message.body


def attachment(message: EmailMessage, content_type: str) -> dict[str, str]:
    """The first attachment of ``content_type`` as it goes over the wire."""
    for part in message.message().walk():
        if part.get_content_type() == content_type:
            return {"content_type": str(part["Content-Type"]), "content": part.get_content()}
    raise AssertionError(f"no {content_type} attachment")
