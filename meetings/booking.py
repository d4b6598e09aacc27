"""The database steps of a booking, each run inside the caller's transaction.

Routing decides who gets a meeting (routing.assignment); these functions write it so that the
database has the last word: the exclusion constraint ``no_overlapping_meetings_per_agent`` refuses
an overlapping meeting whatever the concurrency, and a confirmation is a compare-and-set.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from meetings.models import Meeting, MeetingStatus
from meetings.refusals import BookingRefused

NO_OVERLAP = "no_overlapping_meetings_per_agent"
DEADLOCK_RETRIES = 3


def fingerprint(body: Mapping[str, Any]) -> str:
    """The sha256 of a booking request's content, to tell a retry from a different request."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def replay(idempotency_key: str | None, body_fingerprint: str) -> Meeting | None:
    """The meeting an earlier request with this key made (None: the key is new).

    Raises ``idempotency_mismatch`` when the key was used for a request with another body.
    Called under the rotation lock, so two requests with one key never both see it as new.
    """
    if not idempotency_key:
        return None
    meeting = Meeting.objects.filter(idempotency_key=idempotency_key).first()
    if meeting is None:
        return None
    if meeting.request_fingerprint != body_fingerprint:
        raise BookingRefused("idempotency_mismatch")
    return meeting


def _violated_constraint(error: IntegrityError) -> str:
    diag = getattr(error.__cause__, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")


def _deadlocked(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == "40P01"


def _refusal(error: IntegrityError) -> BookingRefused:
    """The refusal an integrity error means, or the error itself raised again when it is a bug."""
    constraint = _violated_constraint(error)
    if constraint == NO_OVERLAP:
        return BookingRefused("slot_taken")
    if "idempotency_key" in constraint:
        return BookingRefused("idempotency_mismatch")
    raise error


def insert_meeting(
    *,
    site_id: int,
    agent_id: int,
    start: datetime,
    end: datetime,
    status: str = MeetingStatus.UPCOMING,
    lead_email: str = "",
    lead_name: str = "",
    visitor_time_zone: str = "UTC",
    dialogue_id: int | None = None,
    conversation_id: int | None = None,
    hold_expires_at: datetime | None = None,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
    reason: str = "",
    routing_detail: dict[str, Any] | None = None,
    rescheduled_from_id: int | None = None,
) -> Meeting:
    """Insert one meeting (or hold) in a savepoint; an overlap with another meeting of the agent
    that takes place is refused as ``slot_taken`` and leaves the caller's transaction usable.

    Two transactions inserting overlapping meetings at once can each wait for the other while
    checking the exclusion constraint; Postgres then aborts one with a deadlock. That one tries
    again: it now waits for the other to end, and is refused if the other committed.
    """
    fields: dict[str, Any] = {
        "site_id": site_id,
        "agent_id": agent_id,
        "starts_at": start,
        "ends_at": end,
        "status": status,
        "lead_email": lead_email,
        "lead_name": lead_name,
        "visitor_time_zone": visitor_time_zone,
        "dialogue_id": dialogue_id,
        "conversation_id": conversation_id,
        "hold_expires_at": hold_expires_at,
        "idempotency_key": idempotency_key or None,
        "request_fingerprint": request_fingerprint,
        "reason": reason,
        "routing_detail": routing_detail or {},
        "rescheduled_from_id": rescheduled_from_id,
    }
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            with transaction.atomic():
                return Meeting.objects.create(**fields)
        except IntegrityError as error:
            raise _refusal(error) from error
        except OperationalError as error:
            if not _deadlocked(error) or attempt == DEADLOCK_RETRIES:
                raise
    raise AssertionError("unreachable")


def confirm_hold(
    hold_id: int,
    *,
    site_id: int,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    lead_email: str = "",
    lead_name: str = "",
    visitor_time_zone: str = "UTC",
    dialogue_id: int | None = None,
    conversation_id: int | None = None,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
) -> Meeting:
    """Turn a live hold into an upcoming meeting: compare-and-set on (held, not expired, same time).

    No row changed means someone else confirmed it (``slot_taken``) or it expired or was cleaned
    up (``hold_expired``); a hold for another time is ``invalid_slot``.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            changed = Meeting.objects.filter(
                pk=hold_id,
                site_id=site_id,
                status=MeetingStatus.HELD,
                hold_expires_at__gt=now,
                starts_at=start,
                ends_at=end,
            ).update(
                status=MeetingStatus.UPCOMING,
                hold_expires_at=None,
                lead_email=lead_email,
                lead_name=lead_name,
                visitor_time_zone=visitor_time_zone,
                dialogue_id=dialogue_id,
                conversation_id=conversation_id,
                idempotency_key=idempotency_key or None,
                request_fingerprint=request_fingerprint,
                updated_at=now,
            )
    except IntegrityError as error:
        raise _refusal(error) from error
    hold = Meeting.objects.filter(pk=hold_id, site_id=site_id).first()
    if changed == 1 and hold is not None:
        return hold
    if hold is None:
        raise BookingRefused("hold_expired")
    if hold.status == MeetingStatus.HELD:
        if hold.hold_expires_at is None or hold.hold_expires_at <= now:
            raise BookingRefused("hold_expired")
        raise BookingRefused("invalid_slot", "The time kept for you is another one.")
    raise BookingRefused("slot_taken")


def assign_agent(meeting: Meeting, agent_id: int) -> Meeting:
    """Give a meeting to another agent (savepoint; an overlap there is ``slot_taken``).

    Its calendar event and invitation follow through ``meetings.effects.on_reassigned``.
    """
    previous = meeting.agent_id
    try:
        with transaction.atomic():
            meeting.agent_id = agent_id
            meeting.save(update_fields=["agent", "updated_at"])
    except IntegrityError as error:
        meeting.agent_id = previous
        raise _refusal(error) from error
    return meeting


def mark_rescheduled(meeting: Meeting, now: datetime | None = None) -> None:
    """The meeting gave way to a new one: it no longer takes the agent's time."""
    meeting.status = MeetingStatus.RESCHEDULED
    meeting.cancelled_at = now or timezone.now()
    meeting.save(update_fields=["status", "cancelled_at", "updated_at"])


def release_holds(visitor_key: str, *, keep: int | None = None) -> int:
    """Drop the holds a visitor still has (they picked another time); returns how many."""
    holds = Meeting.objects.filter(status=MeetingStatus.HELD, routing_detail__visitor=visitor_key)
    if keep is not None:
        holds = holds.exclude(pk=keep)
    return holds.delete()[0]
