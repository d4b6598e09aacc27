"""The widget's conversation endpoints: start or resume one, read it, send its events.

JSON only, CORS for the site's own origins only, never cookies. Starting authenticates by site key
and origin; the other two by the conversation's bearer token, which travels in the
``Authorization`` header only (never in a URL, where logs and ``Referer`` would keep it).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from dialogues.conversations import record_events, start_conversation
from dialogues.models import Conversation
from dialogues.runtime import Refused
from dialogues.states import state
from dynchat.access import public
from dynchat.http import client_ip, json_error, json_response
from dynchat.ratelimit import ratelimit
from widget.payloads import events_problems, start_problems
from widget.views.shared import (
    body_rate_key,
    body_site_key,
    cors,
    invalid,
    json_body,
    site_request,
)

MAX_ID = 2**63 - 1
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


def _conversation_rate_key(request: HttpRequest) -> str:
    return f"{client_ip(request)}|{_conversation_site_key(request)}"


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
            if conversation.visitor.withdrawn_at is None:
                return conversation
            response = json_error(401, "token_revoked", "The visitor withdrew consent.")
    response["WWW-Authenticate"] = 'Bearer realm="widget"'
    return response


@public
@csrf_exempt
@cors(body_site_key, "POST")
@require_POST
@ratelimit("widget-conversation", key=body_rate_key)
def conversations(request: HttpRequest) -> JsonResponse:
    """Start the visitor's conversation with a version the decision offered, or resume theirs."""
    found = site_request(request, start_problems, for_page=True)
    if isinstance(found, JsonResponse):
        return found
    body, site = found
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
@cors(_conversation_site_key, "GET")
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
@cors(_conversation_site_key, "POST")
@require_POST
@ratelimit("widget-events", key=_conversation_rate_key)
def events(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """Take what the visitor did (opened, answered, typed, declined), in order, once each."""
    body = json_body(request)
    if isinstance(body, JsonResponse):
        return body
    found = _authorized(request, conversation_id)
    if isinstance(found, JsonResponse):
        return found
    if problems := events_problems(body):
        return invalid(problems)
    outcome = record_events(
        found, body["events"], url=body.get("url", ""), client_ip=client_ip(request)
    )
    payload = {
        "accepted": outcome.accepted,
        "conversation": state(outcome.conversation, history=False, walked=outcome.walked),
    }
    if outcome.error is not None:
        return _refused(outcome.error, **payload)
    return json_response(payload, status=202)
