"""The visitor's cancel and reschedule links: signed, bound to one meeting and one action.

A link does not expire by itself; it is good while its meeting is: a cancelled or moved meeting
shows that it is, and offers nothing more.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from meetings.models import Meeting

SALT = "meetings.manage"
Action = Literal["cancel", "reschedule"]
ACTIONS: tuple[Action, ...] = ("cancel", "reschedule")


def _signature(meeting_id: int, action: Action) -> str:
    return signing.Signer(salt=SALT).signature(f"{meeting_id}:{action}")


def manage_token(meeting_id: int, action: Action) -> str:
    """``<meeting id>-<signature of the id and the action>``: a slug, safe in any URL."""
    return f"{meeting_id}-{_signature(meeting_id, action)}"


def meeting_id_from_token(token: str, action: Action) -> int | None:
    """The meeting a token names for ``action``; None when it is forged, altered or for another."""
    number, _, signature = token.partition("-")
    if not number.isdigit() or len(number) > 18:
        return None
    meeting_id = int(number)
    if not constant_time_compare(signature, _signature(meeting_id, action)):
        return None
    return meeting_id


def meeting_manage_url(meeting: Meeting, action: Action) -> str:
    """The absolute address of the visitor's page to cancel or reschedule ``meeting``."""
    path = reverse(f"meeting-manage:{action}", args=[manage_token(meeting.pk, action)])
    return f"{settings.SITE_URL}{path}"
