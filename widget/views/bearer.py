"""The conversation a widget request names, and its bearer token: shared by every endpoint that
acts on one conversation (state, events, slots, holds, bookings)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from dialogues.models import Conversation
from dynchat.http import client_ip, json_error

MAX_ID = 2**63 - 1
CONVERSATION = "dynchat_widget_conversation"


def conversation_in_url(request: HttpRequest) -> Conversation | None:
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


def conversation_site_key(request: HttpRequest) -> str:
    """The key of the site the conversation in the URL belongs to ("" when there is none)."""
    found = conversation_in_url(request)
    return found.visitor.site.key if found is not None else ""


def conversation_rate_key(request: HttpRequest) -> str:
    return f"{client_ip(request)}|{conversation_site_key(request)}"


def authorized(request: HttpRequest, conversation_id: int) -> Conversation | JsonResponse:
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
            conversation = conversation_in_url(request)
            if conversation is None:
                return json_error(404, "conversation_not_found", "There is no such conversation.")
            if conversation.visitor.withdrawn_at is None:
                return conversation
            response = json_error(401, "token_revoked", "The visitor withdrew consent.")
    response["WWW-Authenticate"] = 'Bearer realm="widget"'
    return response
