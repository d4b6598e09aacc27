"""The widget's booking endpoints: the slots a meeting card offers, a short hold, the booking.

They keep the conversation endpoints' rules (widget/views/conversations.py): JSON only, CORS for
the site's own origins, the conversation's bearer token in the ``Authorization`` header, rate
limits per (client address, site). The meeting card awaiting the visitor says whom they may meet
(round robin or one agent); routing.assignment chooses and books; a booking then moves the
conversation on as an answer would (dialogues.booking).
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from dialogues.booking import meeting_card, record_booking
from dialogues.flow import Meeting as MeetingCard
from dialogues.flow import parse_valid
from dialogues.models import Conversation
from dialogues.runtime import Refused
from dialogues.schema_check import pattern_search
from dialogues.states import state
from dynchat.access import public
from dynchat.http import json_error, json_response
from dynchat.ratelimit import ratelimit
from meetings.models import Meeting
from meetings.refusals import BookingRefused
from routing.assignment import BookingRequest, book, hold, offer_slots
from widget.payloads import IDEMPOTENCY_KEY, TIME_ZONE, booking_problems, hold_problems
from widget.views.bearer import authorized, conversation_rate_key, conversation_site_key
from widget.views.shared import Problems, cors, invalid, json_body

MAX_SLOTS = 1000
_time_zone = pattern_search(TIME_ZONE)
_idempotency_key = pattern_search(IDEMPOTENCY_KEY)
Handler = Callable[..., JsonResponse]


def conversation_endpoint(
    scope: str, method: str, problems_of: Problems | None = None
) -> Callable[[Handler], Callable[..., HttpResponseBase]]:
    """What every booking endpoint does first: public, without CSRF (no cookies, only a bearer
    token), CORS for the site's origins, one method, the rate limit ``scope`` per (address,
    site), then (for a POST) a JSON body that ``problems_of`` finds nothing wrong with, and the
    conversation's own token. The view is called as ``view(request, conversation, body)``."""

    def decorator(view: Handler) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def checked(request: HttpRequest, conversation_id: int) -> JsonResponse:
            body: Any = None
            if problems_of is not None:
                body = json_body(request)
                if isinstance(body, JsonResponse):
                    return body
            found = authorized(request, conversation_id)
            if isinstance(found, JsonResponse):
                return found
            if problems_of is not None and (problems := problems_of(body)):
                return invalid(problems)
            return view(request, found, body)

        limited = ratelimit(scope, key=conversation_rate_key)(checked)
        allowed = cors(conversation_site_key, method)(require_http_methods([method])(limited))

        @functools.wraps(allowed)
        def endpoint(request: HttpRequest, conversation_id: int) -> HttpResponseBase:
            response = allowed(request, conversation_id=conversation_id)
            if request.method == "OPTIONS" and response.status_code == 204:
                response["Access-Control-Allow-Headers"] += ", Idempotency-Key"
            return response

        return public(csrf_exempt(endpoint))

    return decorator


def _refused(refused: Refused | BookingRefused) -> JsonResponse:
    """A flow's refusal (409: the card or conversation moved on) or routing's (its status)."""
    status = refused.status if isinstance(refused, BookingRefused) else 409
    if isinstance(refused, Refused) and refused.code == "conversation_not_found":
        status = 404
    return json_error(status, refused.code, refused.message)


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone ``name``, or None for anything else."""
    if not _time_zone(name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def label(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """``Tue 3 Dec, 10:00`` in the visitor's zone (English, as the widget's own texts are)."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def _instant(text: str) -> datetime | None:
    """The instant an ISO 8601 text with an offset names, in UTC; None when there is none."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def _agent_of(card: MeetingCard) -> int | None:
    return card.agent if card.routing == "agent" else None


@conversation_endpoint("widget-slots", "GET")
def slots(request: HttpRequest, conversation: Conversation, body: None) -> JsonResponse:
    """The times the meeting card awaiting the visitor offers, labelled in the visitor's zone."""
    card_id, zone_name = request.GET.get("card", ""), request.GET.get("tz", "") or "UTC"
    problems: dict[str, Any] = {}
    if not 1 <= len(card_id) <= 32:
        problems["card"] = [{"message": "Name the meeting card (1-32 characters).", "code": "card"}]
    zone = _zone(zone_name)
    if zone is None:
        problems["tz"] = [{"message": "Not an IANA time zone name.", "code": "tz"}]
    if problems or zone is None:
        return invalid(problems)
    try:
        card = meeting_card(conversation, card_id)
        offer = offer_slots(agent_id=_agent_of(card))
    except (Refused, BookingRefused) as refused:
        return _refused(refused)
    if offer.unavailable:
        return json_error(
            503, "calendar_unavailable", "No calendar answered. Please try again in a minute."
        )
    starts = sorted(offer.starts)[:MAX_SLOTS]
    return json_response(
        {
            "duration": offer.duration_minutes,
            "time_zone": zone_name,
            "slots": [{"start": _iso(start), "label": label(start, zone)} for start in starts],
        }
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@conversation_endpoint("widget-booking", "POST", hold_problems)
def holds(request: HttpRequest, conversation: Conversation, body: dict[str, Any]) -> JsonResponse:
    """Keep a slot for the visitor for a few minutes while they confirm."""
    start = _instant(body["start"])
    if start is None:
        return invalid({"start": [{"message": "Not a date and time.", "code": "start"}]})
    try:
        card = meeting_card(conversation, body["card"])
        held = hold(
            site_id=conversation.visitor.site_id,
            start=start,
            duration_minutes=body["duration"],
            agent_id=_agent_of(card),
            visitor_key=conversation.visitor.key,
        )
    except (Refused, BookingRefused) as refused:
        return _refused(refused)
    expires = held.hold_expires_at or held.starts_at
    payload = {"hold": held.pk, "start": _iso(held.starts_at), "end": _iso(held.ends_at)}
    return json_response({**payload, "expires_at": _iso(expires)}, status=201)


@conversation_endpoint("widget-booking", "POST", booking_problems)
def bookings(
    request: HttpRequest, conversation: Conversation, body: dict[str, Any]
) -> JsonResponse:
    """Book the slot for the visitor (``Idempotency-Key``: a retry answers the same meeting), then
    walk the conversation on; the answer carries the meeting and the cards to show next."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _idempotency_key(key):
        return json_error(
            400, "invalid_idempotency_key", "Idempotency-Key: 8-100 letters, digits, _ . : -"
        )
    start, zone = _instant(body["start"]), _zone(body["time_zone"])
    if start is None or zone is None:
        problem = {"message": "Not a date and time.", "code": "start"}
        problems = {"start": [problem]} if start is None else {}
        if zone is None:
            problems["time_zone"] = [{"message": "Not an IANA time zone.", "code": "time_zone"}]
        return invalid(problems)
    visitor = conversation.visitor
    if not visitor.email:
        return json_error(409, "email_required", "Share your e-mail address before booking.")
    fields = visitor.fields if isinstance(visitor.fields, dict) else {}
    name = " ".join(str(fields.get(part) or "").strip() for part in ("firstName", "lastName"))
    scoped = f"{conversation.pk}:{key}" if key else None
    try:
        card = _card_to_book(conversation, body["card"], scoped)
        result = book(
            BookingRequest(
                site_id=visitor.site_id,
                start=start,
                duration_minutes=body["duration"],
                lead_email=visitor.email,
                lead_name=name.strip()[:200],
                visitor_time_zone=body["time_zone"],
                agent_id=_agent_of(card),
                dialogue_id=conversation.dialogue_id,
                conversation_id=conversation.pk,
                idempotency_key=scoped,
                hold_id=body.get("hold"),
            )
        )
    except (Refused, BookingRefused) as refused:
        return _refused(refused)
    return _booked(conversation, body["card"], result.meeting, zone, created=result.created)


def _card_to_book(conversation: Conversation, card_id: str, key: str | None) -> MeetingCard:
    """The meeting card to book from: the one awaiting the visitor, or, for a retry of a booking
    already made (its key known), the card it was made from, wherever the flow has gone since.
    Keys are scoped to the conversation: another visitor's key is never this one's replay."""
    if key is None or not Meeting.objects.filter(idempotency_key=key).exists():
        return meeting_card(conversation, card_id)
    card = parse_valid(conversation.version.flow).cards.get(card_id)
    if not isinstance(card, MeetingCard):
        raise Refused("card_not_current", "This card is not a meeting card.")
    return card


def _booked(
    conversation: Conversation,
    card_id: str,
    meeting: Meeting,
    zone: zoneinfo.ZoneInfo,
    *,
    created: bool,
) -> JsonResponse:
    """The answer to a booking (or its replay): the meeting, and the conversation walked on."""
    walked: list[str] = []
    try:
        outcome = record_booking(conversation, card_id, meeting.pk)
        after, walked = outcome.conversation, outcome.walked
    except Refused:
        # A replay, or the visitor moved on meanwhile: the meeting stands, the flow is as it is.
        after = Conversation.objects.select_related("visitor__site", "version").get(
            pk=conversation.pk
        )
    agent = meeting.agent
    payload = {
        "meeting": meeting.pk,
        "start": _iso(meeting.starts_at),
        "end": _iso(meeting.ends_at),
        "label": label(meeting.starts_at, zone),
        "agent": agent.name or "our team",
        "uid": meeting.ics_uid,
        "path": walked,
        "conversation": state(after, history=False, walked=walked),
    }
    return json_response(payload, status=201 if created else 200)
