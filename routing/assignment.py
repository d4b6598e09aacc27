"""Who gets a meeting, and booking it: hold, book (or confirm a hold), reschedule, reassign.

Every booking is one transaction holding the rotation lock (``Rotation.lock()``): choosing the
agent, the idempotency check, inserting the meeting and crediting the agent's turn happen as one
step, so concurrent requests serialize there. Calendar free/busy is fetched fresh *before* the
transaction (provider calls never run while a lock is held). The database's exclusion constraint
still has the last word: an insert that loses a race moves on to the next eligible agent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calendars.availability import Interval
from meetings import effects
from meetings.booking import (
    assign_agent,
    confirm_hold,
    fingerprint,
    insert_meeting,
    mark_rescheduled,
    release_holds,
    replay,
)
from meetings.models import Meeting, MeetingStatus
from meetings.refusals import BookingRefused
from routing import queue
from routing.models import Rotation
from routing.rotation import BOOKED, BUSY, choose
from routing.slots import (
    MARGIN,
    Candidate,
    SlotOffer,
    Taken,
    calendar_busy,
    candidates,
    dynchat_taken,
    offer_minutes,
    offer_slots,
    refusal,
    why_not,
)

__all__ = [
    "BookingRequest",
    "BookingResult",
    "SlotOffer",
    "book",
    "hold",
    "offer_slots",
    "reassign",
    "reschedule",
]

MAX_ATTEMPTS = 4
NAMED_REASON = "the dialogue names this agent"
Insert = Callable[[int, str, dict[str, Any]], Meeting]


@dataclass(frozen=True)
class BookingRequest:
    site_id: int
    start: datetime
    duration_minutes: int
    lead_email: str
    lead_name: str = ""
    visitor_time_zone: str = "UTC"
    agent_id: int | None = None
    dialogue_id: int | None = None
    conversation_id: int | None = None
    idempotency_key: str | None = None
    hold_id: int | None = None


@dataclass(frozen=True)
class BookingResult:
    meeting: Meeting
    created: bool  # False: a replay of an earlier request with the same idempotency key


def _body(request: BookingRequest) -> dict[str, Any]:
    body = asdict(request)
    body.pop("idempotency_key")
    body["start"] = request.start.astimezone(UTC).isoformat()
    return body


def _check_slot(start: datetime, duration_minutes: int) -> timedelta:
    if timezone.is_naive(start) or not 0 < duration_minutes <= 24 * 60:
        raise BookingRefused("invalid_slot")
    return timedelta(minutes=duration_minutes)


def _place(
    found: Sequence[Candidate],
    calendars: Mapping[int, list[Interval] | None],
    *,
    start: datetime,
    duration: timedelta,
    now: datetime,
    named: bool,
    insert: Insert,
) -> Meeting:
    """Choose the first agent in order who is free at the slot and insert through ``insert``;
    an insert refused by the exclusion constraint passes to the next one (≤ 4 attempts).
    Runs under the rotation lock."""
    taken = dynchat_taken(found, start, start + duration, now=now)
    free: dict[int, str | None] = {
        c.agent_id: why_not(
            c, calendars.get(c.agent_id), taken[c.agent_id], now=now, start=start, duration=duration
        )
        for c in found
    }
    order = [c.agent_id for c in found]
    names = {c.agent_id: c.name for c in found}
    for attempt in range(1, MAX_ATTEMPTS + 1):
        choice = choose(order, free, names)
        if choice is None:
            break
        detail = {
            "mode": "named" if named else "round_robin",
            "order": order,
            "skipped": [{"agent": agent, "why": why} for agent, why in choice.skipped],
            "attempts": attempt,
        }
        try:
            return insert(choice.agent_id, NAMED_REASON if named else choice.reason, detail)
        except BookingRefused as refused:
            if refused.code != "slot_taken":
                raise
            free[choice.agent_id] = BOOKED
    raise refusal(free.values())


def _prepare(
    agent_id: int | None, start: datetime, duration: timedelta
) -> tuple[list[Candidate], dict[int, list[Interval] | None]]:
    """The candidates and their fresh calendar busy times (outside any transaction)."""
    found = candidates(agent_id)
    if not found:
        raise BookingRefused("no_agents")
    if duration != timedelta(minutes=offer_minutes(found)):
        raise BookingRefused("invalid_slot", "Meetings here last another length of time.")
    return found, calendar_busy(found, start - MARGIN, start + duration + MARGIN, fresh=True)


def _under_lock(agent_id: int | None, prepared: list[Candidate]) -> list[Candidate]:
    """The candidates again, now that the rotation is locked (the turn order may have moved on);
    agents whose calendar was not asked count as unavailable."""
    return prepared if agent_id is not None else candidates(None)


def book(request: BookingRequest, *, now: datetime | None = None) -> BookingResult:
    """Book the slot: confirm the request's hold, or choose the agent (round robin or the named
    one) and insert the meeting; credit the turn; queue the effects on commit.

    A retry with the same idempotency key and body answers the same meeting (created=False).
    """
    now = now or timezone.now()
    duration = _check_slot(request.start, request.duration_minutes)
    body = fingerprint(_body(request))
    earlier = replay(request.idempotency_key, body)
    if earlier is not None:
        return BookingResult(earlier, created=False)
    if request.hold_id is not None:
        return _confirm(request.hold_id, request, body, duration, now)
    found, calendars = _prepare(request.agent_id, request.start, duration)

    def insert(agent_id: int, reason: str, detail: dict[str, Any]) -> Meeting:
        return insert_meeting(
            site_id=request.site_id,
            agent_id=agent_id,
            start=request.start,
            end=request.start + duration,
            lead_email=request.lead_email,
            lead_name=request.lead_name,
            visitor_time_zone=request.visitor_time_zone,
            dialogue_id=request.dialogue_id,
            conversation_id=request.conversation_id,
            idempotency_key=request.idempotency_key,
            request_fingerprint=body,
            reason=reason,
            routing_detail=detail,
        )

    with transaction.atomic():
        Rotation.lock()
        earlier = replay(request.idempotency_key, body)
        if earlier is not None:
            return BookingResult(earlier, created=False)
        meeting = _place(
            _under_lock(request.agent_id, found),
            calendars,
            start=request.start,
            duration=duration,
            now=now,
            named=request.agent_id is not None,
            insert=insert,
        )
        queue.credit(meeting.agent_id)
        effects.on_booked(meeting)
    return BookingResult(meeting, created=True)


def _confirm(
    hold_id: int, request: BookingRequest, body: str, duration: timedelta, now: datetime
) -> BookingResult:
    """Book by confirming the visitor's hold (compare-and-set), after checking that the agent's
    calendar is still free at that time."""
    held = Meeting.objects.filter(
        pk=hold_id, site_id=request.site_id, status=MeetingStatus.HELD
    ).first()
    if held is not None:
        found = candidates(held.agent_id)
        calendar = calendar_busy(
            found, request.start - MARGIN, request.start + duration + MARGIN, fresh=True
        )[held.agent_id]
        if calendar is None:
            raise BookingRefused("calendar_unavailable")
        nothing = Taken([], [])
        why = why_not(found[0], calendar, nothing, now=now, start=request.start, duration=duration)
        if why == BUSY:
            raise BookingRefused("agent_busy")
    with transaction.atomic():
        Rotation.lock()
        earlier = replay(request.idempotency_key, body)
        if earlier is not None:
            return BookingResult(earlier, created=False)
        # A hold confirmed or cleaned up meanwhile: confirm_hold says which.
        meeting = confirm_hold(
            hold_id,
            site_id=request.site_id,
            start=request.start,
            end=request.start + duration,
            now=now,
            lead_email=request.lead_email,
            lead_name=request.lead_name,
            visitor_time_zone=request.visitor_time_zone,
            dialogue_id=request.dialogue_id,
            conversation_id=request.conversation_id,
            idempotency_key=request.idempotency_key,
            request_fingerprint=body,
        )
        queue.credit(meeting.agent_id)
        effects.on_booked(meeting)
    return BookingResult(meeting, created=True)


def hold(
    *,
    site_id: int,
    start: datetime,
    duration_minutes: int,
    agent_id: int | None = None,
    visitor_key: str,
    now: datetime | None = None,
) -> Meeting:
    """Keep a slot for a visitor for BOOKING_HOLD_SECONDS (the agent chosen as a booking would);
    the visitor's other holds are released. Holding the same slot again answers the same hold."""
    now = now or timezone.now()
    duration = _check_slot(start, duration_minutes)
    found, calendars = _prepare(agent_id, start, duration)
    expires = now + timedelta(seconds=settings.BOOKING_HOLD_SECONDS)

    def insert(chosen: int, reason: str, detail: dict[str, Any]) -> Meeting:
        return insert_meeting(
            site_id=site_id,
            agent_id=chosen,
            start=start,
            end=start + duration,
            status=MeetingStatus.HELD,
            hold_expires_at=expires,
            reason=reason,
            routing_detail={**detail, "visitor": visitor_key},
        )

    with transaction.atomic():
        Rotation.lock()
        same = (
            Meeting.objects.live_holds(now)
            .filter(site_id=site_id, starts_at=start, ends_at=start + duration)
            .filter(routing_detail__visitor=visitor_key)
            .first()
        )
        if same is not None:
            return same
        release_holds(visitor_key)
        return _place(
            _under_lock(agent_id, found),
            calendars,
            start=start,
            duration=duration,
            now=now,
            named=agent_id is not None,
            insert=insert,
        )


def _upcoming(meeting_id: int) -> Meeting:
    meeting = (
        Meeting.objects.select_for_update()
        .filter(pk=meeting_id, status=MeetingStatus.UPCOMING)
        .first()
    )
    if meeting is None:
        raise BookingRefused("not_found", "No upcoming meeting to change.")
    return meeting


def reschedule(meeting_id: int, new_start: datetime, *, now: datetime | None = None) -> Meeting:
    """Move a meeting to another time with the same agent: a new meeting for the same lead, the
    old one RESCHEDULED and linked, in one transaction; the agent's turns are unchanged."""
    now = now or timezone.now()
    current = Meeting.objects.filter(pk=meeting_id, status=MeetingStatus.UPCOMING).first()
    if current is None:
        raise BookingRefused("not_found", "No upcoming meeting to change.")
    duration = _check_slot(new_start, current.duration_minutes)
    found = candidates(current.agent_id)
    calendars = calendar_busy(found, new_start - MARGIN, new_start + duration + MARGIN, fresh=True)
    with transaction.atomic():
        Rotation.lock()
        old = _upcoming(meeting_id)
        mark_rescheduled(old, now)

        def insert(agent_id: int, reason: str, detail: dict[str, Any]) -> Meeting:
            return insert_meeting(
                site_id=old.site_id,
                agent_id=agent_id,
                start=new_start,
                end=new_start + duration,
                lead_email=old.lead_email,
                lead_name=old.lead_name,
                visitor_time_zone=old.visitor_time_zone,
                dialogue_id=old.dialogue_id,
                conversation_id=old.conversation_id,
                reason="rescheduled by the visitor",
                routing_detail={**old.routing_detail, "rescheduled_from": old.pk},
                rescheduled_from_id=old.pk,
            )

        meeting = _place(
            found, calendars, start=new_start, duration=duration, now=now, named=True, insert=insert
        )
        effects.on_booked(meeting)
    return meeting


def reassign(meeting_id: int, agent_id: int) -> Meeting:
    """Give an upcoming meeting to another agent: the turn moves with it, and so do the
    calendar event and the invitation (meetings.effects.on_reassigned)."""
    with transaction.atomic():
        Rotation.lock()
        meeting = _upcoming(meeting_id)
        previous = meeting.agent_id
        if previous == agent_id:
            return meeting
        if not candidates(agent_id):
            raise BookingRefused("not_found")
        assign_agent(meeting, agent_id)
        meeting.reason = "reassigned"
        meeting.routing_detail = {**meeting.routing_detail, "reassigned_from": previous}
        meeting.save(update_fields=["reason", "routing_detail", "updated_at"])
        queue.uncredit(previous)
        queue.credit(agent_id)
        effects.on_reassigned(meeting, previous)
    return meeting
