"""Google: OAuth 2.0 (authorize, token, revoke, userinfo) and Calendar API v3 in Google's shapes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendars.sandbox.http import App, Request, Response, json_response
from calendars.sandbox.state import GOOGLE, Event, Token, account_id, pkce_matches

EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
REVOKED = "Token has been expired or revoked."


# OAuth


def token_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def token(app: App, request: Request) -> Response:
    config, state = app.config, app.state
    client_id, secret = request.client_credentials()
    if client_id != config.google_client_id or secret != config.google_client_secret:
        return token_error("invalid_client", "Unauthorized", 401)
    form = request.form
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        code = state.take_code(form.get("code", ""), GOOGLE)
        if code is None or code.client_id != client_id:
            return token_error("invalid_grant", "Malformed auth code.")
        if form.get("redirect_uri", "") != code.redirect_uri:
            return token_error("redirect_uri_mismatch", "Bad Request")
        if not pkce_matches(code.challenge, code.challenge_method, form.get("code_verifier")):
            return token_error("invalid_grant", "Invalid code verifier.")
        issued = state.issue(GOOGLE, code.email, client_id=client_id, scope=code.scope)
        answer = {
            "access_token": issued["access_token"],
            "expires_in": 3599,
            "refresh_token": issued["refresh_token"],
            "refresh_token_expires_in": 604799,
            "scope": code.scope,
            "token_type": "Bearer",
        }
        if {"openid", "email"} & set(code.scope.split()):
            answer["id_token"] = id_token(app, code.email)
        return json_response(answer)
    if grant == "refresh_token":
        found = state.token(form.get("refresh_token", ""), GOOGLE, "refresh")
        if found is None or found.status != "active":
            return token_error("invalid_grant", REVOKED)
        if found.client_id != client_id:
            return token_error("unauthorized_client", "Unauthorized", 401)
        asked = form.get("scope", "").split()
        if not set(asked) <= set(found.scope.split()):
            return token_error("invalid_scope", "Some requested scopes were not granted.")
        issued = state.issue(
            GOOGLE, found.email, client_id=client_id, scope=found.scope, refresh=False
        )
        answer = {
            "access_token": issued["access_token"],
            "expires_in": 3599,
            "scope": " ".join(asked) if asked else found.scope,
            "token_type": "Bearer",
        }
        if "openid" in found.scope.split():
            answer["id_token"] = id_token(app, found.email)
        return json_response(answer)
    return token_error("unsupported_grant_type", f"Invalid grant_type: {grant}")


def id_token(app: App, email: str) -> str:
    """An unsigned OpenID Connect id_token naming the account (Dynchat only decodes it)."""
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "azp": app.config.google_client_id,
        "aud": app.config.google_client_id,
        "sub": account_id(email),
        "email": email,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
    }
    return unsigned_jwt(claims)


def unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def revoke(app: App, request: Request) -> Response:
    value = request.query.get("token") or request.form.get("token", "")
    with app.state.lock:
        found = app.state.tokens.get(value)
    if found is None or found.provider != GOOGLE or found.status != "active":
        return token_error("invalid_token", "Token expired or revoked")
    app.state.revoke(found.email, GOOGLE)
    return json_response({})


def userinfo(app: App, request: Request) -> Response:
    found = app.state.bearer(request.bearer(), GOOGLE)
    if found is None:
        return unauthenticated()
    sub = account_id(found.email)
    return json_response(
        {
            "id": sub,
            "sub": sub,
            "email": found.email,
            "verified_email": True,
            "email_verified": True,
        }
    )


# Calendar API v3


def api_error(status: int, reason: str, message: str, **headers: str) -> Response:
    payload = {
        "error": {
            "errors": [{"domain": "global", "reason": reason, "message": message}],
            "code": status,
            "message": message,
        }
    }
    return json_response(payload, status, **headers)


def unauthenticated() -> Response:
    challenge = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
    return api_error(401, "authError", "Invalid Credentials", **{"WWW-Authenticate": challenge})


def _caller(app: App, request: Request) -> Token | Response:
    found = app.state.bearer(request.bearer(), GOOGLE)
    return unauthenticated() if found is None else found


def _calendar_of(caller: Token, calendar_id: str) -> str | None:
    calendar_id = unquote(calendar_id)
    if calendar_id == "primary" or calendar_id.lower() == caller.email:
        return caller.email
    return None


def _parse_time(value: Any, zone_name: str = "UTC") -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(zone_name))
    return moment.astimezone(UTC)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _format(moment: datetime, zone: ZoneInfo) -> str:
    if zone.key == "UTC":
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(zone).isoformat(timespec="seconds")


def freebusy(app: App, request: Request) -> Response:
    caller = _caller(app, request)
    if isinstance(caller, Response):
        return caller
    body = request.json()
    if not isinstance(body, dict):
        return api_error(400, "parseError", "Parse Error")
    start, end = _parse_time(body.get("timeMin")), _parse_time(body.get("timeMax"))
    if start is None or end is None:
        return api_error(400, "required", "Missing timeMin or timeMax parameter.")
    if end <= start:
        return api_error(400, "timeRangeEmpty", "The specified time range is empty.")
    zone = _zone(body.get("timeZone"))
    calendars: dict[str, Any] = {}
    for item in body.get("items") or []:
        name = str(item.get("id", "")) if isinstance(item, dict) else ""
        email = _calendar_of(caller, name) or (name.lower() if app.state.knows(name) else None)
        if email is None:
            calendars[name] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
            continue
        busy = app.state.busy_between(email, start, end)
        calendars[name] = {
            "busy": [{"start": _format(s, zone), "end": _format(e, zone)} for s, e in busy]
        }
    return json_response(
        {
            "kind": "calendar#freeBusy",
            "timeMin": _format(start, ZoneInfo("UTC")),
            "timeMax": _format(end, ZoneInfo("UTC")),
            "calendars": calendars,
        }
    )


def insert_event(app: App, request: Request) -> Response:
    caller = _caller(app, request)
    if isinstance(caller, Response):
        return caller
    email = _calendar_of(caller, request.groups["calendar"])
    if email is None:
        return api_error(404, "notFound", "Not Found")
    body = request.json()
    if not isinstance(body, dict):
        return api_error(400, "parseError", "Parse Error")
    start_field, end_field = body.get("start") or {}, body.get("end") or {}
    start = _parse_time(start_field.get("dateTime"), start_field.get("timeZone") or "UTC")
    end = _parse_time(end_field.get("dateTime"), end_field.get("timeZone") or "UTC")
    if start is None or end is None:
        return api_error(400, "required", "Missing start or end time.")
    if end <= start:
        return api_error(400, "timeRangeEmpty", "The specified time range is empty.")
    event_id = body.get("id")
    if event_id is None:
        event_id = base64.b32hexencode(secrets.token_bytes(15)).decode().lower()
    elif not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        return api_error(400, "invalid", "Invalid resource id value.")
    join_url = ""
    conference = (body.get("conferenceData") or {}).get("createRequest")
    if request.query.get("conferenceDataVersion") == "1" and conference:
        digest = hashlib.sha256(event_id.encode()).hexdigest()
        letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in digest[:10])
        join_url = f"https://meet.google.com/{letters[:3]}-{letters[3:7]}-{letters[7:10]}"
    event = Event(
        id=event_id,
        provider=GOOGLE,
        email=email,
        start=start,
        end=end,
        summary=str(body.get("summary", "")),
        description=str(body.get("description", "")),
        attendees=[
            str(a.get("email", "")).lower()
            for a in body.get("attendees") or []
            if isinstance(a, dict)
        ],
        join_url=join_url,
        send_updates=request.query.get("sendUpdates"),
        ical_uid=str(body.get("iCalUID") or f"{event_id}@google.com"),
        request=body,
    )
    if not app.state.add_event(event):
        return api_error(409, "duplicate", "The requested identifier already exists.")
    return json_response(event_resource(app, event))


def event_resource(app: App, event: Event) -> dict[str, Any]:
    body = event.request
    stamp = event.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    resource: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": f'"{int(event.created.timestamp() * 1000)}"',
        "id": event.id,
        "status": event.status,
        "htmlLink": f"{app.config.google_base}/calendar/event?eid={event.id}",
        "created": stamp,
        "updated": stamp,
        "summary": event.summary,
        "description": event.description,
        "creator": {"email": event.email, "self": True},
        "organizer": {"email": event.email, "self": True},
        "start": body.get("start"),
        "end": body.get("end"),
        "iCalUID": event.ical_uid,
        "sequence": 0,
        "attendees": [
            {**a, "responseStatus": "needsAction"}
            for a in body.get("attendees") or []
            if isinstance(a, dict)
        ],
        "reminders": body.get("reminders") or {"useDefault": True},
        "eventType": "default",
    }
    if "extendedProperties" in body:
        resource["extendedProperties"] = body["extendedProperties"]
    if event.join_url:
        request = body["conferenceData"]["createRequest"]
        resource["hangoutLink"] = event.join_url
        resource["conferenceData"] = {
            "createRequest": {**request, "status": {"statusCode": "success"}},
            "entryPoints": [
                {
                    "entryPointType": "video",
                    "uri": event.join_url,
                    "label": event.join_url.removeprefix("https://"),
                }
            ],
            "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
            "conferenceId": event.join_url.rsplit("/", 1)[-1],
        }
    return resource


def get_event(app: App, request: Request) -> Response:
    caller = _caller(app, request)
    if isinstance(caller, Response):
        return caller
    email = _calendar_of(caller, request.groups["calendar"])
    event = app.state.event(email, unquote(request.groups["event"])) if email else None
    if event is None:
        return api_error(404, "notFound", "Not Found")
    return json_response(event_resource(app, event))


def delete_event(app: App, request: Request) -> Response:
    caller = _caller(app, request)
    if isinstance(caller, Response):
        return caller
    email = _calendar_of(caller, request.groups["calendar"])
    with app.state.lock:
        event = app.state.event(email, unquote(request.groups["event"])) if email else None
        if event is None:
            return api_error(404, "notFound", "Not Found")
        if event.status == "cancelled":
            return api_error(410, "deleted", "Resource has been deleted")
        event.status = "cancelled"
    return Response(204)


def get_calendar(app: App, request: Request) -> Response:
    caller = _caller(app, request)
    if isinstance(caller, Response):
        return caller
    email = _calendar_of(caller, request.groups["calendar"])
    if email is None:
        return api_error(404, "notFound", "Not Found")
    return json_response(
        {"kind": "calendar#calendar", "id": email, "summary": email, "timeZone": "UTC"}
    )


@cache
def _static_discovery() -> str:
    documents = resources.files("googleapiclient") / "discovery_cache" / "documents"
    return (documents / "calendar.v3.json").read_text(encoding="utf-8")


def discovery(app: App, request: Request) -> Response:
    """The Calendar v3 discovery document, pointing at this sandbox."""
    document = json.loads(_static_discovery())
    root = app.config.google_base + "/"
    document.update(rootUrl=root, mtlsRootUrl=root, baseUrl=root + document["servicePath"])
    return json_response(document)
