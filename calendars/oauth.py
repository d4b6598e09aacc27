"""The OAuth 2 authorization-code flow with PKCE that connects an agent's calendar.

``begin`` keeps a fresh ``state`` (32 random bytes) and ``code_verifier`` (RFC 7636) in the agent's
session, next to the provider, the agent and the time, and answers the provider's authorization
URL with an S256 challenge. ``finish`` takes the callback's query: the state must be one this
session issued for this provider and this agent less than ten minutes ago, and is used up by the
attempt whatever its outcome; only then is the code exchanged, with the verifier.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any, TypedDict, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from calendars.models import Provider
from calendars.providers import provider_for
from calendars.providers.base import AuthorizationFailed, Grant

logger = logging.getLogger("calendars")

SESSION_KEY = "calendar_oauth"
STATE_BYTES = 32
VERIFIER_BYTES = 64  # 86 characters of [A-Za-z0-9_-], within RFC 7636's 43-128
STATE_LIFETIME_SECONDS = 10 * 60
MAX_PENDING = 5  # authorizations open at once in one session (a few tabs)
GOOGLE_ISSUER = "https://accounts.google.com"
MICROSOFT_ISSUER_HOST = "https://login.microsoftonline.com"


class OAuthRefused(Exception):
    """The callback cannot be trusted or the provider said no; nothing is stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Pending(TypedDict):
    state: str
    code_verifier: str
    provider: str
    agent_id: int
    issued_at: float


def redirect_uri(provider: str) -> str:
    """Where the provider sends the agent back: SITE_URL + the callback path (registered there)."""
    path = reverse("calendars:callback", kwargs={"provider": provider})
    return f"{str(settings.SITE_URL).rstrip('/')}{path}"


def code_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _pending(request: HttpRequest) -> list[Pending]:
    stored = request.session.get(SESSION_KEY)
    return cast(list[Pending], stored) if isinstance(stored, list) else []


def _keep(request: HttpRequest, pending: list[Pending]) -> None:
    request.session[SESSION_KEY] = pending
    request.session.modified = True


def begin(request: HttpRequest, provider: str) -> str:
    """The provider's authorization URL for the signed-in agent; the state and verifier stay in
    the session (at most MAX_PENDING open authorizations; expired ones are dropped)."""
    Provider(provider)  # ValueError for an unknown provider
    now = time.time()
    state = secrets.token_urlsafe(STATE_BYTES)
    verifier = secrets.token_urlsafe(VERIFIER_BYTES)
    url = provider_for(provider).authorization_url(
        state=state, code_challenge=code_challenge(verifier), redirect_uri=redirect_uri(provider)
    )
    fresh = [p for p in _pending(request) if now - p.get("issued_at", 0) <= STATE_LIFETIME_SECONDS]
    entry: Pending = {
        "state": state,
        "code_verifier": verifier,
        "provider": provider,
        "agent_id": cast(int, request.user.pk),
        "issued_at": now,
    }
    _keep(request, [*fresh, entry][-MAX_PENDING:])
    return url


def _take(request: HttpRequest, state: str) -> Pending | None:
    """The pending authorization with this state, removed from the session (single use)."""
    pending = _pending(request)
    found = None
    for entry in pending:
        # Compared in constant time: the state is a secret bound to this session.
        if hmac.compare_digest(str(entry.get("state", "")).encode(), state.encode()):
            found = entry
    if found is not None:
        _keep(request, [entry for entry in pending if entry is not found])
    return found


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def authorization_origins() -> list[str]:
    """Where "Connect" sends the browser: a page with the connect form must allow these as form
    targets (CSP form-action also applies to the redirect that answers the form)."""
    uris = (str(settings.GOOGLE_AUTH_URI), str(settings.MS_AUTHORITY))
    return sorted({_origin(uri) for uri in uris})


def issuer_matches(provider: str, issuer: str) -> bool:
    """RFC 9207: an ``iss`` in the callback must name the provider the flow was started with."""
    if provider == Provider.GOOGLE:
        return issuer.rstrip("/") in {GOOGLE_ISSUER, _origin(str(settings.GOOGLE_AUTH_URI))}
    return _origin(issuer) in {_origin(str(settings.MS_AUTHORITY)), MICROSOFT_ISSUER_HOST}


def _check(request: HttpRequest, provider: str, params: Mapping[str, str]) -> Pending:
    if params.get("error"):
        state = params.get("state")
        if state:
            _take(request, state)
        description = params.get("error_description") or params["error"]
        raise OAuthRefused(f"the provider refused: {description}"[:200])
    state = params.get("state")
    if not state:
        raise OAuthRefused("state missing")
    entry = _take(request, state)
    if entry is None:
        raise OAuthRefused("unknown state (wrong, already used, or from another session)")
    if entry.get("provider") != provider:
        raise OAuthRefused("state issued for another provider")
    if entry.get("agent_id") != request.user.pk:
        raise OAuthRefused("state issued to another user")
    if time.time() - float(entry.get("issued_at", 0)) > STATE_LIFETIME_SECONDS:
        raise OAuthRefused("state expired")
    if not entry.get("code_verifier"):
        raise OAuthRefused("code_verifier missing")
    issuer = params.get("iss")
    if issuer is not None and not issuer_matches(provider, issuer):
        raise OAuthRefused("issuer of another provider")
    if not params.get("code"):
        raise OAuthRefused("code missing")
    return entry


def finish(request: HttpRequest, provider: str, params: Mapping[str, Any]) -> Grant:
    """The grant of a callback to this session's authorization; OAuthRefused (logged) when the
    callback does not belong to it or the provider refused. ProviderUnavailable passes through."""
    query = {key: str(value) for key, value in params.items()}
    try:
        entry = _check(request, provider, query)
        return provider_for(provider).exchange_code(
            code=query["code"],
            code_verifier=entry["code_verifier"],
            redirect_uri=redirect_uri(provider),
        )
    except AuthorizationFailed as error:
        refused = OAuthRefused(f"the code was not accepted: {error}"[:200])
        logger.warning(
            "Calendar connection refused for user %s (%s): %s",
            request.user.pk,
            provider,
            refused.reason,
        )
        raise refused from error
    except OAuthRefused as refused:
        logger.warning(
            "Calendar connection refused for user %s (%s): %s",
            request.user.pk,
            provider,
            refused.reason,
        )
        raise
