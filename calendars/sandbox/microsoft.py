"""Microsoft: Entra ID v2.0 (openid-configuration, authorize, token) and Graph, in their shapes.

Refresh tokens rotate on every use; the replaced one is then refused (AADSTS70000), a revoked one
with AADSTS50173. The id_token is an unsigned JWT carrying the nonce sent to /authorize.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendars.sandbox.google import unsigned_jwt
from calendars.sandbox.http import App, Request, Response, json_response
from calendars.sandbox.state import MICROSOFT, Event, Token, account_id, pkce_matches

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
AADSTS = {
    70000: "The provided grant is invalid or malformed: the refresh token was already redeemed.",
    50173: "The provided grant has expired due to it being revoked, a fresh auth token is "
    "needed. The user might have changed or reset their password.",
    70008: "The provided authorization code or refresh token has expired due to inactivity.",
    9002313: "Invalid request. Request is malformed or invalid.",
    501481: "The Code_Verifier does not match the code_challenge supplied in the authorization "
    "request.",
    50148: "The redirect_uri does not match the one used to obtain the authorization code.",
    700016: "Application was not found in the directory.",
    7000215: "Invalid client secret provided.",
    900144: "The request body must contain the following parameter: 'grant_type'.",
    90033: "A transient error has occurred. Please try again.",
    50000: "There was an error issuing a token or an issue with our sign-in service.",
}


# Identity


def aad_error(error: str, code: int, status: int = 400) -> Response:
    trace = str(uuid.uuid4())
    return json_response(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {AADSTS[code]} Trace ID: {trace}",
            "error_codes": [code],
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
        },
        status,
    )


def openid_configuration(app: App, request: Request) -> Response:
    tenant, config = request.groups["tenant"], app.config
    base = f"{config.microsoft_base}/{tenant}"
    return json_response(
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["none"],
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": config.issuer,
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{config.microsoft_base}/oidc/userinfo",
            # Browsers sign in on the plain listener: no certificate warning in the demo.
            "authorization_endpoint": f"{config.google_base}/{tenant}/oauth2/v2.0/authorize",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "oid", "tid"],
            "tenant_region_scope": None,
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        }
    )


def token(app: App, request: Request) -> Response:
    config, state = app.config, app.state
    client_id, secret = request.client_credentials()
    if client_id != config.ms_client_id:
        return aad_error("unauthorized_client", 700016)
    if secret != config.ms_client_secret:
        return aad_error("invalid_client", 7000215, 401)
    form = request.form
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        code = state.take_code(form.get("code", ""), MICROSOFT)
        if code is None or code.client_id != client_id:
            return aad_error("invalid_grant", 70008)
        if form.get("redirect_uri", "") != code.redirect_uri:
            return aad_error("invalid_grant", 50148)
        if not pkce_matches(code.challenge, code.challenge_method, form.get("code_verifier")):
            return aad_error("invalid_grant", 501481)
        scope = form.get("scope") or code.scope
        return _tokens(app, code.email, scope, code.nonce)
    if grant == "refresh_token":
        found = state.token(form.get("refresh_token", ""), MICROSOFT, "refresh")
        if found is None or found.client_id != client_id:
            return aad_error("invalid_grant", 9002313)
        with state.lock:
            status = found.status
            if status == "active":
                found.status = "rotated"
        if status == "revoked":
            return aad_error("invalid_grant", 50173)
        if status == "rotated":
            return aad_error("invalid_grant", 70000)
        return _tokens(app, found.email, form.get("scope") or found.scope, None)
    if not grant:
        return aad_error("invalid_request", 900144)
    return json_response(
        {"error": "unsupported_grant_type", "error_description": f"AADSTS70003: {grant}"}, 400
    )


def _tokens(app: App, email: str, scope: str, nonce: str | None) -> Response:
    config = app.config
    granted = " ".join(s for s in scope.split() if s != "offline_access")
    issued = app.state.issue(MICROSOFT, email, client_id=config.ms_client_id, scope=granted)
    oid = account_id(email)
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": config.ms_client_id,
        "iss": config.issuer,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "name": display_name(email),
        "oid": oid,
        "preferred_username": email,
        "sub": oid,
        "tid": config.tenant_id,
        "ver": "2.0",
    }
    if nonce:
        claims["nonce"] = nonce
    client_info = json.dumps({"uid": oid, "utid": config.tenant_id}).encode()
    return json_response(
        {
            "token_type": "Bearer",
            "scope": granted,
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": issued["access_token"],
            "refresh_token": issued["refresh_token"],
            "id_token": unsigned_jwt(claims),
            "client_info": base64.urlsafe_b64encode(client_info).rstrip(b"=").decode(),
        }
    )


def display_name(email: str) -> str:
    return email.split("@")[0].replace(".", " ").title()


# Graph


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
