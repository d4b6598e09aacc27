"""The widget's conversation endpoints: start or resume one, read it, send its events.

JSON only, CORS for the site's own origins only, never cookies. Starting authenticates by site key
and origin; the other two by the conversation's bearer token, which travels in the
``Authorization`` header only (never in a URL, where logs and ``Referer`` would keep it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from dialogues import live
from dialogues.conversations import record_events, start_conversation
from dialogues.models import Conversation
from dialogues.runtime import Refused
from dialogues.states import state
from dynchat.access import View, public
from dynchat.http import client_ip, json_error, json_response
from dynchat.models import Site
from dynchat.origins import origin_of
from dynchat.ratelimit import ratelimit
from widget.cors import allow_origin
from widget.payloads import SITE_KEY as SITE_KEY_PATTERN
from widget.payloads import InvalidJson, events_problems, parse_json, start_problems

PREFLIGHT_MAX_AGE = "600"
_SITE_KEY = re.compile(SITE_KEY_PATTERN)
MAX_ID = 2**63 - 1
BODY = "dynchat_widget_body"
CONVERSATION = "dynchat_widget_conversation"
STATUS = {
    "version_not_found": 404,
    "version_not_offered": 409,
    "dialogue_completed": 409,
    "conversation_completed": 409,
    "card_not_current": 422,
    "invalid_answer": 422,
    "invalid_value": 422,
    "rate_limited": 429,
}


def _body(request: HttpRequest) -> Any:
    """The JSON body, parsed once per request (or the InvalidJson error it raised)."""
    if not hasattr(request, BODY):
        try:
            setattr(request, BODY, parse_json(request.body))
        except InvalidJson as error:
            setattr(request, BODY, error)
    return getattr(request, BODY)


def _start_site_key(request: HttpRequest) -> str:
    """The site key the start names, if it looks like one (it is not validated yet)."""
    body = _body(request) if request.method == "POST" else None
    key = body.get("site") if isinstance(body, dict) else None
    return key if isinstance(key, str) and _SITE_KEY.fullmatch(key) else ""


def _conversation_in_url(request: HttpRequest) -> Conversation | None:
    """The conversation the URL names, with its site and version, read once per request (the
    rate limit, CORS and the token check all need it)."""
    if not hasattr(request, CONVERSATION):
        match = request.resolver_match
        pk = match.kwargs.get("conversation_id") if match else None
        found = None
        if isinstance(pk, int) and pk <= MAX_ID:
            found = (
                Conversation.objects.select_related("visitor__site", "version")
                .filter(pk=pk)
                .first()
            )
        setattr(request, CONVERSATION, found)
    return getattr(request, CONVERSATION)  # type: ignore[no-any-return]


def _conversation_site_key(request: HttpRequest) -> str:
    """The key of the site the conversation in the URL belongs to ("" when there is none)."""
    found = _conversation_in_url(request)
    return found.visitor.site.key if found is not None else ""


def _start_rate_key(request: HttpRequest) -> str:
    return f"{client_ip(request)}|{_start_site_key(request)}"


def _conversation_rate_key(request: HttpRequest) -> str:
    return f"{client_ip(request)}|{_conversation_site_key(request)}"


def _site_allows(site_key: str, origin: str) -> bool:
    site = live.live_site(site_key) if site_key else None
    return site is not None and site.allows(origin)


def _cors(site_key_of: Callable[[HttpRequest], str], methods: str) -> Callable[[View], View]:
    """Answer preflights and let the site's own origins read the answers; nobody else.

    A preflight of a start carries no body, so no site key: an origin some site allows passes it,
    and the start itself then checks the origin against the named site.
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            origin = request.headers.get("Origin")
            if request.method == "OPTIONS":
                return _preflight(request, origin, site_key_of, methods)
            response = view(request, *args, **kwargs)
            response["Cache-Control"] = "no-store"
            if origin and _site_allows(site_key_of(request), origin):
                allow_origin(response, origin)
            else:
                patch_vary_headers(response, ["Origin"])
            return response

        return wrapper  # type: ignore[return-value]

    return decorator


def _preflight(
    request: HttpRequest,
    origin: str | None,
    site_key_of: Callable[[HttpRequest], str],
    methods: str,
) -> HttpResponseBase:
    site_key = site_key_of(request)
    if site_key:
        allowed = bool(origin) and _site_allows(site_key, str(origin))
    else:
        allowed = bool(origin) and Site.objects.filter(allowed_origins__contains=[origin]).exists()
    if not allowed:
        refusal = json_error(403, "origin_not_allowed", "This origin may not use the widget API.")
        patch_vary_headers(refusal, ["Origin"])
        return refusal
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = methods
    response["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    allow_origin(response, origin)
    return response


def _json_body(request: HttpRequest) -> Any:
    """The parsed JSON body, or the 415/400 answer for a body that is not JSON."""
    if request.content_type != "application/json":
        return json_error(415, "unsupported_media_type", "Send JSON (application/json).")
    body = _body(request)
    if isinstance(body, InvalidJson):
        return json_error(400, body.code, str(body))
    return body


def _invalid(problems: dict[str, Any]) -> JsonResponse:
    return json_error(400, "invalid_request", "Check the request.", fields=problems)


def _refused(refused: Refused, **extra: Any) -> JsonResponse:
    error = {"code": refused.code, "message": refused.message, **refused.details}
    response = json_response({"error": error, **extra}, status=STATUS.get(refused.code, 422))
    if "retry_after" in refused.details:
        response["Retry-After"] = str(refused.details["retry_after"])
    return response


def _authorized(request: HttpRequest, conversation_id: int) -> Conversation | JsonResponse:
    """The conversation in the URL when the bearer token is its own, else the error answer."""
    header = request.headers.get("Authorization", "")
    if not header.strip():
        response = json_error(401, "token_missing", "Send the conversation token.")
    else:
        scheme, _, token = header.strip().partition(" ")
        token_id = Conversation.id_from_token(token.strip()) if scheme.lower() == "bearer" else None
        if token_id is None:
            response = json_error(401, "token_invalid", "This conversation token is not valid.")
        elif token_id != conversation_id:
            return json_error(403, "token_mismatch", "This token is for another conversation.")
        else:
            conversation = _conversation_in_url(request)
            if conversation is None:
                return json_error(404, "conversation_not_found", "There is no such conversation.")
            return conversation
    response["WWW-Authenticate"] = 'Bearer realm="widget"'
    return response


@public
@csrf_exempt
@_cors(_start_site_key, "POST")
@require_POST
@ratelimit("widget-conversation", key=_start_rate_key)
def conversations(request: HttpRequest) -> JsonResponse:
    """Start the visitor's conversation with a version the decision offered, or resume theirs."""
    body = _json_body(request)
    if isinstance(body, JsonResponse):
        return body
    if problems := start_problems(body):
        return _invalid(problems)
    site = live.live_site(body["site"])
    if site is None:
        return json_error(404, "site_not_found", "No site has this key.")
    origin = request.headers.get("Origin") or origin_of(body["url"])
    if origin is None or not site.allows(origin):
        return json_error(403, "origin_not_allowed", "This site does not allow chat here.")
    if not site.chat_enabled:
        return json_error(409, "chat_disabled", "Chat is switched off on this site.")
    try:
        conversation, created = start_conversation(
            site_id=site.site_id,
            visitor_key=body["visitor"],
            version_id=body["version"],
            url=body["url"],
            cookie=body.get("mkto", ""),
        )
    except Refused as refused:
        return _refused(refused)
    payload = {"token": conversation.token, "conversation": state(conversation)}
    return json_response(payload, status=201 if created else 200)


@public
@csrf_exempt
@_cors(_conversation_site_key, "GET")
@require_GET
@ratelimit("widget-events", key=_conversation_rate_key)
def conversation(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The conversation as the widget resumes it."""
    found = _authorized(request, conversation_id)
    if isinstance(found, JsonResponse):
        return found
    return json_response({"conversation": state(found)})


@public
@csrf_exempt
@_cors(_conversation_site_key, "POST")
@require_POST
@ratelimit("widget-events", key=_conversation_rate_key)
def events(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """Take what the visitor did (opened, answered, typed, declined), in order, once each."""
    body = _json_body(request)
    if isinstance(body, JsonResponse):
        return body
    found = _authorized(request, conversation_id)
    if isinstance(found, JsonResponse):
        return found
    if problems := events_problems(body):
        return _invalid(problems)
    outcome = record_events(
        found, body["events"], url=body.get("url", ""), client_ip=client_ip(request)
    )
    payload = {
        "accepted": outcome.accepted,
        "conversation": state(outcome.conversation, history=False),
    }
    if outcome.error is not None:
        return _refused(outcome.error, **payload)
    return json_response(payload, status=202)
