"""Which handler answers which request, under which counted endpoint name, and scripted faults.

Every route is served on both listeners; the openid-configuration advertises https for the token
endpoint and Graph, and the plain listener for the browser-facing authorize page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from calendars.sandbox import consent, control, google, graph, microsoft
from calendars.sandbox.http import App, Request, Response, json_response
from calendars.sandbox.state import GOOGLE, MICROSOFT

Handler = Callable[[App, Request], Response]
TENANT = r"(?P<tenant>[A-Za-z0-9.\-]+)"


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    endpoint: str
    handler: Handler


def _route(methods: str, pattern: str, endpoint: str, handler: Handler) -> Route:
    return Route(tuple(methods.split()), re.compile(pattern), endpoint, handler)


def _google_authorize(app: App, request: Request) -> Response:
    return consent.authorize(app, request, GOOGLE)


def _ms_authorize(app: App, request: Request) -> Response:
    return consent.authorize(app, request, MICROSOFT)


CALENDAR = r"/calendar/v3/calendars/(?P<calendar>[^/]+)"
ROUTES = (
    _route("GET POST", r"/o/oauth2(/v2)?/auth", "google.authorize", _google_authorize),
    _route("POST", r"/token", "google.token", google.token),
    _route("POST", r"/revoke", "google.revoke", google.revoke),
    _route("GET", r"/oauth2/v[23]/userinfo", "google.userinfo", google.userinfo),
    _route("GET", r"/discovery/v1/apis/calendar/v3/rest", "google.discovery", google.discovery),
    _route("POST", r"/calendar/v3/freeBusy", "google.freebusy", google.freebusy),
    _route("POST", CALENDAR + r"/events", "google.events.insert", google.insert_event),
    _route("GET", CALENDAR + r"/events/(?P<event>[^/]+)", "google.events.get", google.get_event),
    _route(
        "DELETE",
        CALENDAR + r"/events/(?P<event>[^/]+)",
        "google.events.delete",
        google.delete_event,
    ),
    _route("GET", CALENDAR, "google.calendars.get", google.get_calendar),
    _route(
        "GET",
        "/" + TENANT + r"/v2\.0/\.well-known/openid-configuration",
        "ms.openid",
        microsoft.openid_configuration,
    ),
    _route("GET POST", "/" + TENANT + r"/oauth2/v2\.0/authorize", "ms.authorize", _ms_authorize),
    _route("POST", "/" + TENANT + r"/oauth2/v2\.0/token", "ms.token", microsoft.token),
    _route("GET", r"/v1\.0/me", "graph.me", graph.me),
    _route("POST", r"/v1\.0/me/calendar/getSchedule", "graph.getSchedule", graph.get_schedule),
    _route("POST", r"/v1\.0/me/events", "graph.events.create", graph.create_event),
    _route("GET", r"/v1\.0/me/events/(?P<event>[^/]+)", "graph.events.get", graph.get_event),
    _route(
        "DELETE",
        r"/v1\.0/me/events/(?P<event>[^/]+)",
        "graph.events.delete",
        graph.delete_event,
    ),
)


def dispatch(app: App, request: Request) -> Response:
    """Answer one request: control calls, else count it, apply a fault, or run the route."""
    if request.path.startswith("/_sandbox/"):
        return control.handle(app, request)
    allowed: list[str] = []
    for route in ROUTES:
        match = route.pattern.fullmatch(request.path)
        if match is None:
            continue
        if request.method not in route.methods:
            allowed += route.methods
            continue
        request.groups = {k: v for k, v in match.groupdict().items() if v is not None}
        fault = app.state.call(route.endpoint)
        if fault is not None:
            return fault_response(route.endpoint, fault)
        return route.handler(app, request)
    if allowed:
        return json_response({"error": "method not allowed"}, 405, Allow=", ".join(allowed))
    return json_response({"error": "not found", "path": request.path}, 404)


def fault_response(endpoint: str, kind: str) -> Response:
    """A scripted failure in the endpoint's own error shape."""
    if kind == "timeout":
        return Response(504, hold=True)
    status = 400 if kind == "invalid_grant" else int(kind)
    retry = {"Retry-After": "1"} if status == 503 else {}
    if endpoint in ("google.token", "google.revoke"):
        if kind == "invalid_grant":
            return google.token_error("invalid_grant", google.REVOKED)
        return json_response(
            {"error": "internal_failure", "error_description": "Backend Error"}, status, **retry
        )
    if endpoint == "ms.token":
        if kind == "invalid_grant":
            return microsoft.aad_error("invalid_grant", 50173)
        error = "temporarily_unavailable" if status == 503 else "server_error"
        response = microsoft.aad_error(error, 90033 if status == 503 else 50000, status)
        response.headers.update(retry)
        return response
    if endpoint.startswith("graph."):
        if kind == "invalid_grant":
            return graph.graph_error(
                401, "InvalidAuthenticationToken", "Access token is empty, invalid or expired."
            )
        code = "ServiceNotAvailable" if status == 503 else "generalException"
        return graph.graph_error(status, code, "The service is unavailable.", **retry)
    if kind == "invalid_grant":
        return google.unauthenticated()
    reason = "backendError"
    message = "Service unavailable" if status == 503 else "Backend Error"
    return google.api_error(status, reason, message, **retry)
