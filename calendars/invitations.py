"""The invitation a visitor gets: an iCalendar file and the agent's e-mail text (pure, no ORM).

Calendars know nothing of meetings: callers pass plain values (:class:`Invitation`) and a token
context. Tokens are replaced as plain text, never evaluated: an agent's ``{% debug %}`` or a
visitor's ``{{ request }}`` reaches the visitor exactly as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from icalendar import Calendar, Event, vCalAddress, vText

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//Dynchat//Meetings//EN"
TOKEN_RE = re.compile(
    r"\{\{\s*(?P<name>(?:lead|company|agent|meeting)\.[A-Za-z][A-Za-z0-9_]{0,99})"
    r'(?::"(?P<default>[^"]*)")?\s*\}\}'
)


@dataclass(frozen=True)
class Invitation:
    """One version of a meeting, as the visitor's calendar sees it."""

    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    description: str
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str
    location: str = ""
    stamp: datetime | None = None


class InvitationText(Protocol):
    """What :func:`render_invitation` reads of an agent's rules (BookingRules has both)."""

    invitation_subject: str
    invitation_body: str


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key.upper().replace("_", "-")] = vText(value)
    return address


def invitation_ics(invitation: Invitation, method: Method = "REQUEST") -> bytes:
    """The ``text/calendar`` attachment: a request for the meeting, or its cancellation.

    A later version of the same meeting carries the same UID and a higher SEQUENCE, so the
    visitor's calendar updates (or removes) the entry it already has.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", invitation.uid)
    event.add("sequence", invitation.sequence)
    event.add("dtstamp", (invitation.stamp or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", invitation.start.astimezone(UTC))
    event.add("dtend", invitation.end.astimezone(UTC))
    event.add("summary", invitation.summary)
    if invitation.description:
        event.add("description", invitation.description)
    if invitation.location:
        event.add("location", invitation.location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(invitation.organizer_email, invitation.organizer_name))
    event.add(
        "attendee",
        _address(
            invitation.attendee_email,
            invitation.attendee_name,
            role="REQ-PARTICIPANT",
            partstat="NEEDS-ACTION",
            rsvp="TRUE",
        ),
    )
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def render_tokens(text: str, context: Mapping[str, object]) -> str:
    """Replace ``{{lead.firstName:"there"}}``-style tokens by their value, else their default.

    Unknown or malformed ``{{…}}`` fragments stay as they are; nothing else is interpreted.
    """

    def value(match: re.Match[str]) -> str:
        known = context.get(match["name"])
        if known is not None and str(known).strip():
            return str(known)
        return match["default"] or ""

    return TOKEN_RE.sub(value, text)


def render_invitation(rules: InvitationText, context: Mapping[str, object]) -> tuple[str, str]:
    """The agent's invitation subject and body with the tokens filled in, as plain text.

    The subject is one line (line breaks from values become spaces: no header injection).
    """
    subject = render_tokens(rules.invitation_subject, context)
    subject = " ".join(subject.split())
    body = render_tokens(rules.invitation_body, context)
    return subject, body
