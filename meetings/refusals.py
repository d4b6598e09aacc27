"""Why a booking was refused, with the stable code and HTTP status every interface answers with."""

from __future__ import annotations

from typing import Final

STATUS: Final[dict[str, int]] = {
    "slot_taken": 409,
    "agent_busy": 409,
    "hold_expired": 409,
    "slot_held": 409,
    "idempotency_mismatch": 422,
    "invalid_slot": 422,
    "calendar_unavailable": 503,
    "no_agents": 404,
    "not_found": 404,
}

MESSAGES: Final[dict[str, str]] = {
    "slot_taken": "That time was just taken. Pick another one.",
    "agent_busy": "The agent is no longer free at that time. Pick another one.",
    "hold_expired": "The time kept for you has expired. Pick a time again.",
    "slot_held": "Someone else is booking that time right now. Pick another one.",
    "idempotency_mismatch": "This idempotency key was already used for a different booking.",
    "invalid_slot": "That time cannot be booked.",
    "calendar_unavailable": "Calendars cannot be reached right now. Try again in a moment.",
    "no_agents": "Nobody can take meetings right now.",
    "not_found": "No such meeting or agent.",
}


class BookingRefused(Exception):
    """A booking (hold, confirmation, reschedule, reassignment) that cannot be done, and why.

    ``code`` is stable (the API answers it), ``status`` the HTTP status for it, ``message`` text a
    visitor may read.
    """

    def __init__(self, code: str, message: str = "") -> None:
        if code not in STATUS:
            raise ValueError(f"unknown refusal code {code!r}")
        self.code = code
        self.message = message or MESSAGES[code]
        self.status = STATUS[code]
        super().__init__(f"{code}: {self.message}")
