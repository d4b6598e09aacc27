"""The visitor's cancel and reschedule links: signed, bound to one meeting and one action.

A link does not expire by itself; it is good while its meeting is: a cancelled or moved meeting
shows that it is, and offers nothing more.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.core import signing
from django.urls import reverse

from meetings.models import Meeting

SALT = "meetings.manage"
Action = Literal["cancel", "reschedule"]
ACTIONS: tuple[Action, ...] = ("cancel", "reschedule")


def manage_token(meeting_id: int, action: Action) -> str:
    return signing.dumps({"m": meeting_id, "a": action}, salt=SALT)


def meeting_id_from_token(token: str, action: Action) -> int | None:
    """The meeting a token names for ``action``; None when it is forged, altered or for another."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != action:
        return None
    meeting_id = data.get("m")
    return meeting_id if isinstance(meeting_id, int) else None


def meeting_manage_url(meeting: Meeting, action: Action) -> str:
    """The absolute address of the visitor's page to cancel or reschedule ``meeting``."""
    path = reverse(f"meeting-manage:{action}", args=[manage_token(meeting.pk, action)])
    return f"{settings.SITE_URL}{path}"
