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
from dialogues.runtime import Refused
from dialogues.states import state
from dynchat.access import public
from dynchat.http import client_ip, json_error, json_response
from dynchat.ratelimit import ratelimit
from widget.payloads import events_problems, start_problems
from widget.views.bearer import authorized, conversation_rate_key, conversation_site_key
from widget.views.shared import (
    body_rate_key,
    body_site_key,
    cors,
    invalid,
    json_body,
    site_request,
)

STATUS = {
    "version_not_found": 404,
    "conversation_not_found": 404,
    "version_not_offered": 409,
    "dialogue_completed": 409,
    "conversation_completed": 409,
    "card_not_current": 422,
    "invalid_answer": 422,
    "invalid_value": 422,
    "rate_limited": 429,
}


def _refused(refused: Refused, **extra: Any) -> JsonResponse:
    error = {"code": refused.code, "message": refused.message, **refused.details}
    response = json_response({"error": error, **extra}, status=STATUS.get(refused.code, 422))
    if "retry_after" in refused.details:
        response["Retry-After"] = str(refused.details["retry_after"])
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
@cors(conversation_site_key, "GET")
@require_GET
@ratelimit("widget-events", key=conversation_rate_key)
def conversation(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The conversation as the widget resumes it."""
    found = authorized(request, conversation_id)
    if isinstance(found, JsonResponse):
        return found
    return json_response({"conversation": state(found)})


@public
@csrf_exempt
@cors(conversation_site_key, "POST")
@require_POST
@ratelimit("widget-events", key=conversation_rate_key)
def events(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """Take what the visitor did (opened, answered, typed, declined), in order, once each."""
    body = json_body(request)
    if isinstance(body, JsonResponse):
        return body
    found = authorized(request, conversation_id)
    if isinstance(found, JsonResponse):
        return found
    if problems := events_problems(body):
        return invalid(problems)
    try:
        outcome = record_events(
            found, body["events"], url=body.get("url", ""), client_ip=client_ip(request)
        )
    except Refused as refused:  # erased while this request was on its way
        return _refused(refused)
    payload = {
        "accepted": outcome.accepted,
        "conversation": state(outcome.conversation, history=False, walked=outcome.walked),
    }
    if outcome.error is not None:
        return _refused(outcome.error, **payload)
    return json_response(payload, status=202)
