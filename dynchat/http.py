"""Small HTTP helpers shared by every app: typed requests, client address, JSON answers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django_htmx.middleware import HtmxDetails

from dynchat.models import User

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class AuthedRequest(HttpRequest):
    """A request that passed an access check: it has a signed-in user."""

    user: User
    htmx: HtmxDetails


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the address our trusted proxies saw.

    With TRUSTED_PROXY_COUNT = N, the N-th X-Forwarded-For entry from the right was written by the
    outermost trusted proxy; anything left of it is the client's to forge, so it is ignored.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    hops = settings.TRUSTED_PROXY_COUNT
    if not hops:
        return remote
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-hops] if len(forwarded) >= hops else remote


def login_username(request: HttpRequest | None, credentials: dict[str, Any]) -> str:
    """The account a login attempt names, as lockout counts it: case and spaces do not matter."""
    return str(credentials.get("username", "")).strip().lower()


def json_response(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(
        data,
        status=status,
        safe=False,
        content_type=JSON_CONTENT_TYPE,
        json_dumps_params={"separators": (",", ":")},
    )


def json_error(status: int, code: str, message: str, **details: Any) -> JsonResponse:
    """The one error shape of every JSON endpoint: ``{"error": {"code", "message", ...}}``.

    ``code`` is stable and meant for programs; ``message`` is for people.
    """
    return json_response({"error": {"code": code, "message": message, **details}}, status=status)


# The stable code and message of errors any JSON endpoint may answer, whoever produces them.
STANDARD_ERRORS = {
    400: ("bad_request", "The request could not be understood."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept this method."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON."),
    500: ("server_error", "Something went wrong on our side; it was logged."),
}


def standard_json_error(status: int) -> JsonResponse:
    code, message = STANDARD_ERRORS.get(status, ("error", "The request failed."))
    return json_error(status, code, message)


def is_api_request(request: HttpRequest) -> bool:
    """Under /api/: the widget's JSON API, with no session, no users and JSON errors only."""
    return request.path.startswith("/api/")
