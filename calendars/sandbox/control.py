"""/_sandbox/* — control the sandbox from another process (the demo, benchmarks). Never counted.

POST /_sandbox/reset                                   forget every token, event, fault and count
POST /_sandbox/busy          {"email", "busy": [[start, end], ...], "add": false}
                                                       replace (or add to) an account's busy times
POST /_sandbox/fault         {"endpoint", "kind", "times": 1}
POST /_sandbox/revoke        {"email"}                 every token of that account → invalid_grant
POST /_sandbox/auto-consent  {"email": "a@b" | null}   authorize as that account at once / show page
POST /_sandbox/issue-tokens  {"provider", "email", "expires_in": 3600}
GET  /_sandbox/calls[?endpoint=name]                   {"calls": {name: n}} or {"endpoint", "count"}
GET  /_sandbox/events?email=a@b[&deleted=1]            {"events": [...]} (times as ISO 8601)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from calendars.sandbox.http import App, Request, Response, json_response
from calendars.sandbox.state import GOOGLE, GOOGLE_SCOPES, MS_SCOPES, PROVIDERS


def issue_tokens(app: App, provider: str, email: str, expires_in: int = 3600) -> dict[str, Any]:
    """A grant as if the account had consented (what the Python API and the control call do)."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
    config = app.config
    google = provider == GOOGLE
    return app.state.issue(
        provider,
        email,
        client_id=config.google_client_id if google else config.ms_client_id,
        scope=GOOGLE_SCOPES if google else MS_SCOPES.replace(" offline_access", ""),
        expires_in=expires_in,
    )


def _when(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


def handle(app: App, request: Request) -> Response:
    name = request.path.removeprefix("/_sandbox/").rstrip("/")
    body = request.json() if request.method == "POST" else None
    data: dict[str, Any] = body if isinstance(body, dict) else {}
    state = app.state
    try:
        if request.method == "POST" and name == "reset":
            state.reset()
            return json_response({"ok": True})
        if request.method == "POST" and name == "busy":
            intervals = [(_when(start), _when(end)) for start, end in data.get("busy") or []]
            if data.get("add"):
                for start, end in intervals:
                    state.add_busy(str(data["email"]), start, end)
            else:
                state.set_busy(str(data["email"]), intervals)
            return json_response({"ok": True})
        if request.method == "POST" and name == "fault":
            state.add_fault(str(data["endpoint"]), str(data["kind"]), int(data.get("times", 1)))
            return json_response({"ok": True})
        if request.method == "POST" and name == "revoke":
            return json_response({"revoked": state.revoke(str(data["email"]))})
        if request.method == "POST" and name == "auto-consent":
            email = data.get("email")
            with state.lock:
                state.consent_as = str(email).lower() if email else None
            return json_response({"ok": True})
        if request.method == "POST" and name == "issue-tokens":
            tokens = issue_tokens(
                app, str(data["provider"]), str(data["email"]), int(data.get("expires_in", 3600))
            )
            return json_response(tokens)
        if request.method == "GET" and name == "calls":
            endpoint = request.query.get("endpoint")
            if endpoint:
                return json_response({"endpoint": endpoint, "count": state.count(endpoint)})
            with state.lock:
                return json_response({"calls": dict(state.calls)})
        if request.method == "GET" and name == "events":
            events = state.list_events(
                request.query.get("email", ""), include_deleted=bool(request.query.get("deleted"))
            )
            return json_response({"events": [_jsonable(e.public()) for e in events]})
    except (KeyError, TypeError, ValueError) as error:
        return json_response({"error": "bad_request", "message": str(error)}, 400)
    return json_response({"error": "not found", "path": request.path}, 404)


def _jsonable(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in event.items()}
