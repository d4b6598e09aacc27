"""Meeting operations after booking: cancel, no-show, roll-over, and the visitor's e-mails.

Every interface (the Meetings page, the visitor's manage links, beat, tasks) calls these.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import MIMEPart
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from calendars.invitations import Invitation, Method, invitation_ics, render_invitation
from calendars.models import BookingRules
from dynchat.models import User
from dynchat.reliable import claim
from meetings import effects
from meetings.links import meeting_manage_url
from meetings.models import Meeting, MeetingStatus
from meetings.signals import meeting_cancelled
from sync.models import MarketoLead

logger = logging.getLogger("meetings.services")


class MeetingClosed(Exception):
    """The meeting is no longer in a state that allows this (already cancelled, moved, over)."""

    def __init__(self, meeting: Meeting, message: str) -> None:
        super().__init__(message)
        self.meeting = meeting
        self.message = message


def get_meeting_for_user(user: User, meeting_id: int) -> Meeting:
    """A meeting the user may see and act on (agents: their own), else 404."""
    meeting = Meeting.objects.visible_to(user).filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404("No such meeting.")
    return meeting


@transaction.atomic
def cancel(meeting_id: int, *, by: User | None) -> Meeting:
    """Cancel an upcoming meeting (``by`` None: the visitor, through their link).

    The calendar event is deleted and the visitor gets an iCalendar CANCEL once this commits;
    ``meeting_cancelled`` is sent once it commits (routing gives the turn back with it): sent
    inside, routing's rotation lock would be taken after this meeting's row lock, the reverse of
    booking's order, and the two could deadlock.
    Raises MeetingClosed if the meeting is not upcoming.
    """
    meeting = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("agent", "dialogue")
        .get(pk=meeting_id)
    )
    if meeting.status != MeetingStatus.UPCOMING:
        raise MeetingClosed(meeting, f"This meeting is {meeting.get_status_display().lower()}.")
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = timezone.now()
    meeting.ics_sequence += 1
    meeting.save(update_fields=["status", "cancelled_at", "ics_sequence", "updated_at"])
    logger.info("meeting %s cancelled by %s", meeting.pk, by.pk if by else "the visitor")
    effects.on_cancelled(meeting)
    meeting_id, agent_id = meeting.pk, meeting.agent_id
    transaction.on_commit(
        lambda: meeting_cancelled.send(sender=Meeting, meeting_id=meeting_id, agent_id=agent_id)
    )
    return meeting


@transaction.atomic
def mark_no_show(meeting_id: int, user: User) -> Meeting:
    """Record that the visitor did not come to a meeting that has started (agents: their own)."""
    meeting = get_meeting_for_user(user, meeting_id)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status not in (MeetingStatus.UPCOMING, MeetingStatus.COMPLETED):
        raise MeetingClosed(meeting, f"This meeting is {meeting.get_status_display().lower()}.")
    if meeting.starts_at > timezone.now():
        raise MeetingClosed(meeting, "A meeting can be marked as a no-show once it has started.")
    meeting.status = MeetingStatus.NO_SHOW
    meeting.save(update_fields=["status", "updated_at"])
    return meeting


@dataclass(frozen=True)
class RollOver:
    completed: int
    holds_removed: int


@transaction.atomic
def roll_over(now: datetime | None = None) -> RollOver:
    """Mark upcoming meetings that have ended as completed, and delete expired holds."""
    now = now or timezone.now()
    completed = Meeting.objects.filter(status=MeetingStatus.UPCOMING, ends_at__lte=now).update(
        status=MeetingStatus.COMPLETED, updated_at=now
    )
    holds_removed, _ = Meeting.objects.filter(
        status=MeetingStatus.HELD, hold_expires_at__lte=now
    ).delete()
    return RollOver(completed=completed, holds_removed=holds_removed)


# --- The visitor's e-mails -------------------------------------------------------------------


def zone_named(name: str) -> ZoneInfo:
    """The visitor's zone; UTC when the name is not a zone this system knows."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # not found, malformed, or a directory ("Europe")
        return ZoneInfo("UTC")


def _lead_facts(meeting: Meeting) -> dict[str, str]:
    first, _, last = meeting.lead_name.strip().partition(" ")
    facts = {
        "lead.firstName": first,
        "lead.lastName": last.strip(),
        "lead.email": meeting.lead_email,
    }
    lead = None
    if meeting.lead_email:
        lead = MarketoLead.objects.filter(email__iexact=meeting.lead_email).first()
    if lead is not None:
        facts["lead.firstName"] = lead.first_name or facts["lead.firstName"]
        facts["lead.lastName"] = lead.last_name or facts["lead.lastName"]
        facts["lead.company"] = lead.company_name
        facts["company.name"] = lead.company_name
    return facts


def start_label(meeting: Meeting) -> str:
    """The start in the visitor's own zone: "Tuesday 3 December 2030, 10:00 (Europe/Berlin)"."""
    zone = zone_named(meeting.visitor_time_zone)
    local = meeting.starts_at.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({zone.key})"


def invitation_context(meeting: Meeting, rules: BookingRules) -> dict[str, str]:
    agent = meeting.agent
    return {
        **_lead_facts(meeting),
        "agent.name": agent.name or agent.email,
        "agent.email": agent.email,
        "meeting.title": rules.meeting_title,
        "meeting.start": start_label(meeting),
        "meeting.duration": str(meeting.duration_minutes),
        "meeting.video": meeting.join_url,
        "meeting.cancel_url": meeting_manage_url(meeting, "cancel"),
        "meeting.reschedule_url": meeting_manage_url(meeting, "reschedule"),
    }


def _invitation(meeting: Meeting, subject: str, body: str) -> Invitation:
    agent = meeting.agent
    return Invitation(
        uid=meeting.ics_uid or effects.ics_uid_for(meeting.pk),
        sequence=meeting.ics_sequence,
        start=meeting.starts_at,
        end=meeting.ends_at,
        summary=subject,
        description=body,
        organizer_email=agent.email,
        organizer_name=agent.name,
        attendee_email=meeting.lead_email,
        attendee_name=meeting.lead_name,
        location=meeting.join_url,
    )


def _message(
    meeting: Meeting, subject: str, body: str, invitation: Invitation, method: Method
) -> EmailMessage:
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[meeting.lead_email],
        reply_to=[meeting.agent.email],
    )
    part = MIMEPart()
    part.set_content(
        invitation_ics(invitation, method).decode(),
        subtype="calendar",
        params={"method": method},
        filename="invite.ics" if method == "REQUEST" else "cancel.ics",
    )
    message.attach(part)
    return message


def _locked(meeting_id: int) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",)).select_related("agent").get(pk=meeting_id)
    )


def send_invitation(meeting_id: int) -> bool:
    """E-mail the visitor the invitation with its METHOD:REQUEST file, once per meeting version.

    Returns False when there is nothing to send (no e-mail, no longer upcoming, already sent).
    """
    with transaction.atomic():
        meeting = _locked(meeting_id)
        if meeting.status != MeetingStatus.UPCOMING or not meeting.lead_email:
            return False
        if not claim(f"invitation:{meeting.pk}:{meeting.ics_sequence}"):
            return False
        rules, _ = BookingRules.objects.get_or_create(agent_id=meeting.agent_id)
        subject, text = render_invitation(rules, invitation_context(meeting, rules))
        body = _render_text("meetings/email/invitation.txt", {"body": text})
        invitation = _invitation(meeting, subject, text)
        # Sent inside the transaction: if sending fails, the claim is undone and a retry sends.
        _message(meeting, subject, body, invitation, "REQUEST").send()
    return True


def send_cancellation(meeting_id: int) -> bool:
    """E-mail the visitor that a meeting is cancelled, with its METHOD:CANCEL file, once."""
    with transaction.atomic():
        meeting = _locked(meeting_id)
        if meeting.status != MeetingStatus.CANCELLED or not meeting.lead_email:
            return False
        if not claim(f"cancellation:{meeting.pk}:{meeting.ics_sequence}"):
            return False
        rules, _ = BookingRules.objects.get_or_create(agent_id=meeting.agent_id)
        context = invitation_context(meeting, rules)
        subject = " ".join(f"Cancelled: {rules.meeting_title} with {context['agent.name']}".split())
        body = _render_text(
            "meetings/email/cancellation.txt",
            {
                "first_name": context["lead.firstName"],
                "title": rules.meeting_title,
                "agent_name": context["agent.name"],
                "start": context["meeting.start"],
            },
        )
        invitation = _invitation(meeting, subject, body)
        _message(meeting, subject, body, invitation, "CANCEL").send()
    return True


def _render_text(template: str, context: dict[str, Any]) -> str:
    return render_to_string(template, context).strip() + "\n"
