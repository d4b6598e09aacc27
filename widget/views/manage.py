"""The visitor's own pages for a booked meeting: cancel it, or move it to another free time.

Reached from the invitation e-mail through a signed link (meetings.links); no account, no
session. A link that was altered, or is for another action, is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dynchat.access import public
from dynchat.ratelimit import ratelimit
from meetings import services
from meetings.links import Action, meeting_id_from_token, meeting_manage_url
from meetings.models import Meeting, MeetingStatus
from meetings.refusals import BookingRefused
from routing.assignment import offer_slots, reschedule

MAX_SLOT_FIELD = 64


def _meeting(token: str, action: Action) -> Meeting:
    meeting_id = meeting_id_from_token(token, action)
    meeting = (
        Meeting.objects.select_related("agent").filter(pk=meeting_id).first()
        if meeting_id is not None
        else None
    )
    if meeting is None or meeting.status == MeetingStatus.HELD:
        raise Http404("This link is not valid.")
    return meeting


@dataclass(frozen=True)
class SlotChoice:
    value: str
    label: str


def _slots(meeting: Meeting) -> tuple[list[SlotChoice], bool]:
    """The times the meeting's agent offers now, labelled in the visitor's zone."""
    offer = offer_slots(agent_id=meeting.agent_id)
    zone = services.zone_named(meeting.visitor_time_zone)
    choices = []
    for start in offer.starts:
        local = start.astimezone(zone)
        choices.append(SlotChoice(start.isoformat(), f"{local:%a} {local.day} {local:%b, %H:%M}"))
    return choices, offer.unavailable


def _context(meeting: Meeting, **extra: object) -> dict[str, object]:
    return {
        "meeting": meeting,
        "start": services.start_label(meeting),
        "agent_name": meeting.agent.name or meeting.agent.email,
        **extra,
    }


@public
@ratelimit("meeting-manage")
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    meeting = _meeting(token, "cancel")
    if request.method == "POST":
        try:
            services.cancel(meeting.pk, by=None)
        except services.MeetingClosed as closed:
            context = _context(closed.meeting, error=closed.message)
            return render(request, "widget/manage_cancel.html", context, status=409)
        return redirect(request.path)  # shows the cancelled meeting; a reload sends nothing
    return render(request, "widget/manage_cancel.html", _context(meeting))


@public
@ratelimit("meeting-manage")
@require_http_methods(["GET", "POST"])
def reschedule_meeting(request: HttpRequest, token: str) -> HttpResponse:
    meeting = _meeting(token, "reschedule")
    if meeting.status != MeetingStatus.UPCOMING:
        moved = Meeting.objects.filter(rescheduled_from=meeting).first()
        context = _context(meeting, moved=services.start_label(moved) if moved else "")
        status = 409 if request.method == "POST" else 200
        return render(request, "widget/manage_reschedule.html", context, status=status)
    slots, unavailable = _slots(meeting)
    error = ""
    if request.method == "POST":
        chosen = request.POST.get("start", "")[:MAX_SLOT_FIELD]
        new_start = _offered(chosen, slots)
        if new_start is None:
            error = "Please pick one of the times below."
        else:
            try:
                moved = reschedule(meeting.pk, new_start)
            except BookingRefused as refused:
                error = "That time was just taken, please pick another."
                if refused.code not in {"slot_taken", "agent_busy", "slot_held"}:
                    error = refused.message
                slots, unavailable = _slots(meeting)
            else:
                return redirect(meeting_manage_url(moved, "reschedule") + "?moved=1")
    context = _context(
        meeting,
        slots=slots,
        unavailable=unavailable,
        error=error,
        moved_here=request.GET.get("moved") == "1",
    )
    return render(request, "widget/manage_reschedule.html", context, status=409 if error else 200)


def _offered(chosen: str, slots: list[SlotChoice]) -> datetime | None:
    if not any(slot.value == chosen for slot in slots):
        return None
    try:
        return datetime.fromisoformat(chosen)
    except ValueError:
        return None
