"""Google Calendar: OAuth through google-auth-oauthlib, refresh through google-auth, the Calendar
API through google-api-python-client. Endpoints come from settings, read at call time."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httplib2
import requests
from django.conf import settings
from google.auth import exceptions as auth_exceptions
from google.auth.transport import requests as auth_requests
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from calendars.providers.base import (
    AuthorizationFailed,
    Busy,
    CalendarError,
    CreatedEvent,
    EventRequest,
    Grant,
    ProviderUnavailable,
    TokenSet,
)
from calendars.providers.errors import for_status, for_token_error, is_transient

logger = logging.getLogger(__name__)

AUTH = "https://www.googleapis.com/auth/"
SCOPES = ["openid", AUTH + "userinfo.email", AUTH + "calendar.events", AUTH + "calendar.freebusy"]
REQUIRED_SCOPES = {AUTH + "calendar.events", AUTH + "calendar.freebusy"}
# Dynchat e-mails its own invitation (with the .ics), so Google must not send a second one.
SEND_UPDATES = "none"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def event_id(meeting_id: int) -> str:
    """The event id Dynchat gives a meeting's event: base32hex (a-v, 0-9) of "dc<id>", so that a
    retried insert collides with the first one instead of creating a second event."""
    return base64.b32hexencode(f"dc{meeting_id}".encode()).decode().rstrip("=").lower()


def _relax_oauthlib() -> None:
    # oauthlib refuses plain http ("OAuth 2 MUST utilize https"). The bundled calendar sandbox
    # speaks http on loopback, so the check is lifted only when the token endpoint is on this
    # machine; real Google endpoints are always https.
    if urlsplit(settings.GOOGLE_TOKEN_URI).hostname in LOOPBACK:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    # Google may grant other scopes than asked (earlier grants, unticked boxes); oauthlib would
    # raise "Scope has changed". Granted scopes are checked below instead.
    os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"  # noqa: S105 (a switch, not a secret)


def _client_config(redirect_uri: str) -> dict[str, Any]:
    return {
        "web": {
            "client_id": settings.GOOGLE_CLIENT_ID,
            "client_secret": settings.GOOGLE_CLIENT_SECRET,
            "auth_uri": settings.GOOGLE_AUTH_URI,
            "token_uri": settings.GOOGLE_TOKEN_URI,
            "redirect_uris": [redirect_uri],
        }
    }


class _TokenTransport(auth_requests.Request):
    """google-auth's requests transport with Dynchat's timeout; a 5xx or 429 ends the call at
    once (google-auth would otherwise retry by itself, and the retries are counted by tokens)."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> Any:
        response = super().__call__(  # type: ignore[no-untyped-call]
            url,
            method=method,
            body=body,
            headers=headers,
            timeout=settings.CALENDAR_TIMEOUT_SECONDS,
            **kwargs,
        )
        if is_transient(response.status):
            raise ProviderUnavailable(f"Google token endpoint answered {response.status}")
        return response


def _aware(expiry: datetime | None, fallback_seconds: int = 3600) -> datetime:
    if expiry is None:
        return datetime.now(UTC) + timedelta(seconds=fallback_seconds)
    return expiry.replace(tzinfo=UTC) if expiry.tzinfo is None else expiry


def _email_from_id_token(id_token: str | None) -> str:
    """The e-mail claim of an id_token received straight from the token endpoint over TLS
    (OpenID Connect Core §3.1.3.7 lets the client skip the signature check in that case)."""
    if not id_token or id_token.count(".") != 2:
        return ""
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return ""
    return str(claims.get("email", "")) if isinstance(claims, dict) else ""


class GoogleCalendar:
    name = "google"

    # OAuth ----------------------------------------------------------------------------------

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        _relax_oauthlib()
        flow = Flow.from_client_config(
            _client_config(redirect_uri),
            scopes=SCOPES,
            redirect_uri=redirect_uri,
            autogenerate_code_verifier=False,
        )
        url, _ = flow.authorization_url(
            state=state,
            code_challenge=code_challenge,
            code_challenge_method="S256",
            access_type="offline",
            prompt="consent",
            include_granted_scopes="true",
        )
        return str(url)

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> Grant:
        _relax_oauthlib()
        flow = Flow.from_client_config(
            _client_config(redirect_uri),
            scopes=SCOPES,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            autogenerate_code_verifier=False,
        )
        try:
            flow.fetch_token(code=code, timeout=settings.CALENDAR_TIMEOUT_SECONDS)
        except oauth_errors.OAuth2Error as error:
            raise AuthorizationFailed(f"Google refused the code: {error.error}") from error
        except requests.RequestException as error:
            raise ProviderUnavailable(f"Google token endpoint: {error}") from error
        creds = flow.credentials
        granted = set(creds.granted_scopes or []) or None
        if granted is not None and not granted >= REQUIRED_SCOPES:
            raise AuthorizationFailed("Calendar access was not granted (events and free/busy).")
        if not creds.refresh_token:
            raise AuthorizationFailed("Google granted no refresh token.")
        email = _email_from_id_token(getattr(creds, "id_token", None)) or self._userinfo_email(
            str(creds.token)
        )
        return Grant(
            tokens=TokenSet(
                access_token=str(creds.token),
                refresh_token=str(creds.refresh_token),
                expires_at=_aware(creds.expiry),
            ),
            account_email=email,
        )

    def _userinfo_email(self, access_token: str) -> str:
        """The account's address from the userinfo endpoint, else the primary calendar's id."""
        url = settings.GOOGLE_CALENDAR_ROOT_URL.rstrip("/") + "/oauth2/v2/userinfo"
        try:
            response = requests.get(
                url,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=settings.CALENDAR_TIMEOUT_SECONDS,
            )
            if response.ok:
                return str(response.json().get("email", ""))
        except (requests.RequestException, ValueError):
            logger.warning("Google userinfo did not answer; reading the primary calendar instead")
        calendar = _execute(_service(access_token).calendars().get(calendarId="primary"), "get")
        return str(calendar.get("id", ""))

    def refresh(self, refresh_token: str) -> TokenSet:
        creds = Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=refresh_token,
            token_uri=settings.GOOGLE_TOKEN_URI,
            client_id=settings.GOOGLE_CLIENT_ID,
            client_secret=settings.GOOGLE_CLIENT_SECRET,
        )
        try:
            creds.refresh(_TokenTransport())  # type: ignore[no-untyped-call]
        except auth_exceptions.RefreshError as error:
            data = error.args[1] if len(error.args) > 1 else None
            if isinstance(data, dict) and data.get("error"):
                raise for_token_error(
                    str(data["error"]), str(data.get("error_description", "")), "Google refresh"
                ) from error
            if getattr(error, "retryable", False):
                raise ProviderUnavailable(f"Google refresh: {error}") from error
            raise CalendarError(f"Google refresh: {error}") from error
        except auth_exceptions.TransportError as error:
            raise ProviderUnavailable(f"Google token endpoint: {error}") from error
        new_refresh = creds.refresh_token if creds.refresh_token != refresh_token else None
        return TokenSet(
            access_token=str(creds.token),
            refresh_token=new_refresh,
            expires_at=_aware(creds.expiry),
        )

    def revoke(self, token: str) -> None:
        try:
            response = requests.post(
                settings.GOOGLE_REVOKE_URI,
                data={"token": token},
                timeout=settings.CALENDAR_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise ProviderUnavailable(f"Google revoke: {error}") from error
        if response.status_code == 400:  # already revoked or expired: nothing left to undo
            return
        if not response.ok:
            raise for_status(response.status_code, "Google revoke", response.text)

    # Calendar API ---------------------------------------------------------------------------

    def busy(self, access_token: str, start: datetime, end: datetime) -> list[Busy]:
        body = {
            "timeMin": _rfc3339(start),
            "timeMax": _rfc3339(end),
            "timeZone": "UTC",
            "items": [{"id": "primary"}],
        }
        answer = _execute(_service(access_token).freebusy().query(body=body), "freeBusy")
        calendar = (answer.get("calendars") or {}).get("primary")
        if not isinstance(calendar, dict):
            raise CalendarError("Google freeBusy answered without the primary calendar")
        if calendar.get("errors"):  # a calendar with errors is not a free calendar
            reasons = ", ".join(str(e.get("reason", "")) for e in calendar["errors"])
            raise CalendarError(f"Google freeBusy: {reasons}")
        return [
            Busy(start=_parse_time(item["start"]), end=_parse_time(item["end"]))
            for item in calendar.get("busy", [])
        ]

    def create_event(self, access_token: str, event: EventRequest) -> CreatedEvent:
        eid = event_id(event.meeting_id)
        body: dict[str, Any] = {
            "id": eid,
            "summary": event.summary,
            "description": event.description,
            "start": {"dateTime": _rfc3339(event.start), "timeZone": "UTC"},
            "end": {"dateTime": _rfc3339(event.end), "timeZone": "UTC"},
            "attendees": [{"email": event.attendee_email, "displayName": event.attendee_name}],
            "reminders": {"useDefault": True},
            "extendedProperties": {
                "private": {"dynchat_meeting": str(event.meeting_id), "ics_uid": event.ics_uid}
            },
        }
        if event.video_link:
            body["conferenceData"] = {
                "createRequest": {
                    "requestId": eid,
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                }
            }
        events = _service(access_token).events()
        try:
            created = _execute(
                events.insert(
                    calendarId="primary",
                    body=body,
                    sendUpdates=SEND_UPDATES,
                    conferenceDataVersion=1 if event.video_link else 0,
                ),
                "events.insert",
                passthrough=(409,),
            )
        except HttpError:  # 409: an earlier attempt created it already
            created = self._existing(access_token, eid)
        return CreatedEvent(event_id=str(created.get("id", eid)), join_url=_join_url(created))

    def _existing(self, access_token: str, eid: str) -> dict[str, Any]:
        try:
            return _execute(
                _service(access_token).events().get(calendarId="primary", eventId=eid),
                "events.get",
            )
        except CalendarError:
            logger.warning("Google event %s exists but could not be read back", eid)
            return {"id": eid}

    def delete_event(self, access_token: str, event_id: str) -> None:
        request = (
            _service(access_token)
            .events()
            .delete(calendarId="primary", eventId=event_id, sendUpdates=SEND_UPDATES)
        )
        try:
            _execute(request, "events.delete", passthrough=(404, 410))
        except HttpError:  # already gone
            return


def _service(access_token: str) -> Any:
    """A Calendar v3 client for one call (httplib2 objects are not thread-safe)."""
    http = AuthorizedHttp(
        Credentials(token=access_token),  # type: ignore[no-untyped-call]
        http=httplib2.Http(timeout=settings.CALENDAR_TIMEOUT_SECONDS),
    )
    endpoint = settings.GOOGLE_CALENDAR_ROOT_URL.rstrip("/") + "/calendar/v3/"
    return build(
        "calendar",
        "v3",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": endpoint},
    )


def _execute(request: Any, what: str, passthrough: tuple[int, ...] = ()) -> dict[str, Any]:
    """Run one API request without the library's own retries; map its failures."""
    try:
        answer = request.execute(num_retries=0)
    except HttpError as error:
        if error.status_code in passthrough:
            raise
        raise for_status(error.status_code, f"Google {what}", str(error.reason)) from error
    except auth_exceptions.RefreshError as error:  # 401 with an access token only
        raise CalendarError(f"Google {what}: the access token was refused") from error
    except (OSError, httplib2.HttpLib2Error) as error:  # timeouts, refused connections
        raise ProviderUnavailable(f"Google {what}: {error!r}") from error
    return answer if isinstance(answer, dict) else {}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _join_url(event: dict[str, Any]) -> str:
    if link := event.get("hangoutLink"):
        return str(link)
    for entry in (event.get("conferenceData") or {}).get("entryPoints", []):
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return ""
