"""Microsoft Graph: me, getSchedule and events, in Graph's shapes and errors."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendars.sandbox.http import App, Request, Response, json_response
from calendars.sandbox.microsoft import display_name
from calendars.sandbox.state import MICROSOFT, Event, Token, account_id

WINDOWS_ZONES = {
    "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Tokyo Standard Time": "Asia/Tokyo",
}


def graph_error(status: int, code: str, message: str, **headers: str) -> Response:
    inner = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()),
        "client-request-id": str(uuid.uuid4()),
    }
    return json_response(
        {"error": {"code": code, "message": message, "innerError": inner}}, status, **headers
    )


def _caller(app: App, request: Request) -> Token | Response:
    found = app.state.bearer(request.bearer(), MICROSOFT)
    if found is None:
        return graph_error(
            401, "InvalidAuthenticationToken", "Access token is empty, invalid or expired."
        )
    return found


def _zone(name: str | None) -> ZoneInfo:
    name = WINDOWS_ZONES.get(name or "", name or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _parse(value: Any) -> datetime | None:
    """A Graph dateTimeTimeZone: {"dateTime": "2030-01-07T10:00:00", "timeZone": "UTC"}."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        return None
    text = value["dateTime"]
    if "." in text:  # Graph sends seven fractional digits; Python parses up to six
        head, _, fraction = text.partition(".")
        text = f"{head}.{fraction[:6]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(value.get("timeZone")))
    return moment.astimezone(UTC)


def _graph_time(moment: datetime, zone: ZoneInfo) -> dict[str, str]:
    local = moment.astimezone(zone).replace(tzinfo=None)
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone.key}


def _prefer_zone(request: Request) -> ZoneInfo:
    for part in request.headers.get("prefer", "").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "outlook.timezone":
            return _zone(value.strip().strip('"'))
    return ZoneInfo("UTC")


def me(app: App, request: Request) -> Response:
    caller = _caller(app, request)
    if isinstance(caller, Response):
        return caller
    email = caller.email
    return json_response(
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
            "id": account_id(email),
            "displayName": display_name(email),
            "mail": email,
            "userPrincipalName": email,
        }
    )


def get_schedule(app: App, request: Request) -> Response:
    caller = _caller(app, request)
    if isinstance(caller, Response):
        return caller
    body = request.json()
    if not isinstance(body, dict):
        return graph_error(400, "BadRequest", "Unable to read JSON request payload.")
    start, end = _parse(body.get("startTime")), _parse(body.get("endTime"))
    schedules = body.get("schedules")
    interval = body.get("availabilityViewInterval", 30)
    if start is None or end is None or not isinstance(schedules, list) or end <= start:
        return graph_error(400, "ErrorInvalidParameter", "Invalid startTime, endTime or schedules.")
    if not isinstance(interval, int) or not 5 <= interval <= 1440:
        return graph_error(400, "ErrorInvalidParameter", "availabilityViewInterval: 5 to 1440.")
    zone = _prefer_zone(request)
    answers = []
    for schedule in schedules:
        email = str(schedule).lower()
        if email != caller.email and not app.state.knows(email):
            answers.append(
                {
                    "scheduleId": schedule,
                    "error": {
                        "message": "The specified mailbox was not found.",
                        "responseCode": "ErrorMailRecipientNotFound",
                    },
                }
            )
            continue
        busy = app.state.busy_between(email, start, end)
        answers.append(
            {
                "scheduleId": schedule,
                "availabilityView": _view(busy, start, end, timedelta(minutes=interval)),
                "scheduleItems": [
                    {
                        "isPrivate": False,
                        "status": "busy",
                        "subject": "Busy",
                        "location": "",
                        "start": _graph_time(s, zone),
                        "end": _graph_time(e, zone),
                    }
                    for s, e in busy
                ],
                "workingHours": {
                    "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                    "startTime": "08:00:00.0000000",
                    "endTime": "17:00:00.0000000",
                    "timeZone": {"name": "UTC"},
                },
            }
        )
    return json_response(
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/"
            "$metadata#Collection(microsoft.graph.scheduleInformation)",
            "value": answers,
        }
    )


def _view(
    busy: list[tuple[datetime, datetime]], start: datetime, end: datetime, step: timedelta
) -> str:
    digits = []
    moment = start
    while moment < end:
        upto = min(moment + step, end)
        digits.append("2" if any(s < upto and e > moment for s, e in busy) else "0")
        moment = upto
    return "".join(digits)


def create_event(app: App, request: Request) -> Response:
    caller = _caller(app, request)
    if isinstance(caller, Response):
        return caller
    body = request.json()
    if not isinstance(body, dict):
        return graph_error(400, "BadRequest", "Unable to read JSON request payload.")
    start, end = _parse(body.get("start")), _parse(body.get("end"))
    if start is None or end is None or end <= start:
        return graph_error(
            400, "ErrorInvalidRequest", "The start or end time is missing or invalid."
        )
    transaction = body.get("transactionId")
    if isinstance(transaction, str) and transaction:
        existing = app.state.event_by_transaction(caller.email, transaction)
        if existing is not None:
            return _created(app, existing)
    event_id = "AAMkAGsbx" + secrets.token_urlsafe(30)
    join_url = ""
    if body.get("isOnlineMeeting"):
        join_url = (
            "https://teams.microsoft.com/l/meetup-join/"
            f"19%3ameeting_{secrets.token_hex(12)}%40thread.v2/0"
        )
    event = Event(
        id=event_id,
        provider=MICROSOFT,
        email=caller.email,
        start=start,
        end=end,
        summary=str(body.get("subject", "")),
        description=str((body.get("body") or {}).get("content", "")),
        attendees=[
            str((a.get("emailAddress") or {}).get("address", "")).lower()
            for a in body.get("attendees") or []
            if isinstance(a, dict)
        ],
        join_url=join_url,
        send_updates="all",  # Graph always invites the attendees
        transaction_id=transaction if isinstance(transaction, str) and transaction else None,
        ical_uid="040000008200E00074C5B7101A82E008" + secrets.token_hex(28).upper(),
        request=body,
    )
    with app.state.lock:  # check and insert at once: two racing retries make one event
        if event.transaction_id:
            existing = app.state.event_by_transaction(caller.email, event.transaction_id)
            if existing is not None:
                return _created(app, existing)
        app.state.add_event(event)
    return _created(app, event)


def _created(app: App, event: Event) -> Response:
    response = json_response(event_resource(event), 201)
    response.headers["Location"] = (
        f"{app.config.microsoft_base}/v1.0/users/{account_id(event.email)}/events/{event.id}"
    )
    return response


def event_resource(event: Event) -> dict[str, Any]:
    body = event.request
    stamp = event.created.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    utc = ZoneInfo("UTC")
    organizer = {"emailAddress": {"name": display_name(event.email), "address": event.email}}
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('me')/events/$entity",
        "id": event.id,
        "createdDateTime": stamp,
        "lastModifiedDateTime": stamp,
        "iCalUId": event.ical_uid,
        "subject": event.summary,
        "body": body.get("body") or {"contentType": "text", "content": ""},
        "isCancelled": event.status == "cancelled",
        "isOrganizer": True,
        "isOnlineMeeting": bool(event.join_url),
        "onlineMeetingProvider": body.get("onlineMeetingProvider", "unknown"),
        "webLink": f"https://outlook.office365.com/owa/?itemid={event.id}",
        "transactionId": event.transaction_id,
        "start": _graph_time(event.start, utc),
        "end": _graph_time(event.end, utc),
        "attendees": [
            {
                "type": a.get("type", "required"),
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                "emailAddress": a.get("emailAddress") or {},
            }
            for a in body.get("attendees") or []
            if isinstance(a, dict)
        ],
        "organizer": organizer,
        "onlineMeeting": {"joinUrl": event.join_url} if event.join_url else None,
    }


def _own_event(app: App, request: Request) -> tuple[Token | None, Event | None, Response | None]:
    caller = _caller(app, request)
    if isinstance(caller, Response):
        return None, None, caller
    event = app.state.event(caller.email, unquote(request.groups["event"]))
    if event is None or event.status == "cancelled":
        message = "The specified object was not found in the store."
        return caller, None, graph_error(404, "ErrorItemNotFound", message)
    return caller, event, None


def get_event(app: App, request: Request) -> Response:
    _, event, problem = _own_event(app, request)
    if problem is not None or event is None:
        return problem or Response(500)
    return json_response(event_resource(event))


def delete_event(app: App, request: Request) -> Response:
    _, event, problem = _own_event(app, request)
    if problem is not None or event is None:
        return problem or Response(500)
    with app.state.lock:
        event.status = "cancelled"
    return Response(204)
