"""Outlook (Microsoft 365): identity through msal, calendars through Microsoft Graph (requests).

The msal application is built per call: it fetches the authority's openid-configuration when
constructed, and it remembers a refused token request for a minute per instance, which must not
hide a reconnected account's first refresh.
"""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import msal
import requests
from django.conf import settings
from msal.exceptions import MsalServiceError

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
from calendars.providers.errors import for_status, for_token_error

logger = logging.getLogger(__name__)

SCOPES = ["Calendars.ReadWrite", "User.Read"]
# msal adds these itself (and refuses them in SCOPES); the authorize URL must carry them.
RESERVED_SCOPES = ["offline_access", "openid", "profile"]


def transaction_id(meeting_id: int) -> str:
    """Graph's de-duplication key for a meeting's event: a retried create returns the first."""
    return f"dynchat-meeting-{meeting_id}"


class _Session(requests.Session):
    """requests with Dynchat's timeout on every call and the configured CA bundle.

    With MS_CA_BUNDLE set (the sandbox's certificate), the environment must not override it:
    REQUESTS_CA_BUNDLE would otherwise win over ``verify``.
    """

    def __init__(self) -> None:
        super().__init__()
        bundle = settings.MS_CA_BUNDLE
        self.verify = bundle or True
        self.trust_env = not bundle
        self.timeout = settings.CALENDAR_TIMEOUT_SECONDS

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def _app() -> Any:
    try:
        return msal.ConfidentialClientApplication(
            settings.MS_CLIENT_ID,
            client_credential=settings.MS_CLIENT_SECRET,
            authority=settings.MS_AUTHORITY,
            validate_authority=False,
            instance_discovery=False,
            http_client=_Session(),
        )
    except requests.RequestException as error:
        raise ProviderUnavailable(f"Microsoft identity: {error!r}") from error
    except MsalServiceError as error:
        raise for_status(_status_of(error), "Microsoft identity") from error
    except (ValueError, RuntimeError) as error:  # discovery refused or malformed
        raise CalendarError(f"Microsoft identity: {error}") from error


def _status_of(error: MsalServiceError) -> int:
    """The HTTP status in msal's "HTTP Error: 503" (it keeps no attribute); 502 if absent."""
    found = re.search(r"HTTP Error: (\d{3})", str(error))
    return int(found.group(1)) if found else 502


def _token_call(call: Any, what: str) -> dict[str, Any]:
    """Run one msal token request; map what it raises or returns."""
    try:
        result = call()
    except MsalServiceError as error:  # msal raises this for a 5xx token answer
        raise for_status(_status_of(error), what) from error
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else 502
        raise for_status(status, what) from error
    except requests.RequestException as error:
        raise ProviderUnavailable(f"{what}: {error!r}") from error
    except ValueError as error:
        raise CalendarError(f"{what}: {error}") from error
    if not isinstance(result, dict):
        raise CalendarError(f"{what}: no answer")
    if "error" in result:
        raise for_token_error(str(result["error"]), str(result.get("error_description", "")), what)
    if not result.get("access_token"):
        raise CalendarError(f"{what}: no access token in the answer")
    return result


def _tokens(result: dict[str, Any]) -> TokenSet:
    return TokenSet(
        access_token=str(result["access_token"]),
        refresh_token=str(result["refresh_token"]) if result.get("refresh_token") else None,
        expires_at=datetime.now(UTC) + timedelta(seconds=int(result.get("expires_in", 3600))),
    )


class OutlookCalendar:
    name = "microsoft"

    # OAuth ----------------------------------------------------------------------------------

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        endpoint = _app().authority.authorization_endpoint
        query = {
            "client_id": settings.MS_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "response_mode": "query",
            "scope": " ".join(SCOPES + RESERVED_SCOPES),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "prompt": "select_account",
        }
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> Grant:
        app = _app()
        try:
            # The code, verifier and state are Dynchat's own (calendars.oauth checks the state),
            # so msal's flow-dict API does not fit; its advice to use it is not for us.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Change your", DeprecationWarning)
                result = _token_call(
                    lambda: app.acquire_token_by_authorization_code(
                        code,
                        SCOPES,
                        redirect_uri=redirect_uri,
                        data={"code_verifier": code_verifier},
                    ),
                    "Microsoft code exchange",
                )
        except ProviderUnavailable:
            raise
        except CalendarError as error:
            raise AuthorizationFailed(str(error)) from error
        tokens = _tokens(result)
        if not tokens.refresh_token:
            raise AuthorizationFailed("Microsoft granted no refresh token (offline_access).")
        claims = result.get("id_token_claims") or {}
        email = str(claims.get("preferred_username") or claims.get("email") or "")
        if not email:
            email = self.account_email(tokens.access_token)
        return Grant(tokens=tokens, account_email=email)

    def refresh(self, refresh_token: str) -> TokenSet:
        app = _app()
        result = _token_call(
            lambda: app.acquire_token_by_refresh_token(refresh_token, scopes=SCOPES),
            "Microsoft refresh",
        )
        return _tokens(result)

    def revoke(self, token: str) -> None:
        # Microsoft identity has no endpoint that revokes one refresh token (revokeSignInSessions
        # would sign the agent out everywhere); forgetting the sealed tokens is the disconnect.
        logger.info("Outlook disconnect: tokens forgotten (Microsoft offers no per-token revoke)")

    # Graph ----------------------------------------------------------------------------------

    def account_email(self, access_token: str) -> str:
        me = _graph("GET", "/me", access_token)
        return str(me.get("mail") or me.get("userPrincipalName") or "")

    def busy(self, access_token: str, start: datetime, end: datetime) -> list[Busy]:
        email = _schedule_id(access_token)
        body = {
            "schedules": [email],
            "startTime": {"dateTime": _graph_time(start), "timeZone": "UTC"},
            "endTime": {"dateTime": _graph_time(end), "timeZone": "UTC"},
            "availabilityViewInterval": 15,
        }
        answer = _graph("POST", "/me/calendar/getSchedule", access_token, body)
        busy: list[Busy] = []
        for schedule in answer.get("value", []):
            if schedule.get("error"):  # an entry with an error is not a free calendar
                raise CalendarError(f"Graph getSchedule: {schedule['error']}")
            for item in schedule.get("scheduleItems", []):
                if item.get("status") == "free":
                    continue
                busy.append(Busy(start=_parse_graph(item["start"]), end=_parse_graph(item["end"])))
        return busy

    def create_event(self, access_token: str, event: EventRequest) -> CreatedEvent:
        body: dict[str, Any] = {
            "subject": event.summary,
            "body": {"contentType": "text", "content": event.description},
            "start": {"dateTime": _graph_time(event.start), "timeZone": "UTC"},
            "end": {"dateTime": _graph_time(event.end), "timeZone": "UTC"},
            "attendees": [
                {
                    "emailAddress": {"address": event.attendee_email, "name": event.attendee_name},
                    "type": "required",
                }
            ],
            "allowNewTimeProposals": False,
            "transactionId": transaction_id(event.meeting_id),
        }
        if event.video_link:
            body["isOnlineMeeting"] = True
            body["onlineMeetingProvider"] = "teamsForBusiness"
        created = _graph("POST", "/me/events", access_token, body)
        online = created.get("onlineMeeting") or {}
        return CreatedEvent(event_id=str(created["id"]), join_url=str(online.get("joinUrl") or ""))

    def delete_event(self, access_token: str, event_id: str) -> None:
        _graph("DELETE", f"/me/events/{event_id}", access_token, ok_missing=True)


def _graph(
    method: str,
    path: str,
    access_token: str,
    body: dict[str, Any] | None = None,
    *,
    ok_missing: bool = False,
) -> dict[str, Any]:
    url = settings.GRAPH_BASE_URL.rstrip("/") + path
    headers = {"Authorization": f"Bearer {access_token}", "Prefer": 'outlook.timezone="UTC"'}
    try:
        with _Session() as session:
            response = session.request(method, url, json=body, headers=headers)
    except requests.RequestException as error:
        raise ProviderUnavailable(f"Graph {method} {path}: {error!r}") from error
    if ok_missing and response.status_code in (404, 410):
        return {}
    if not response.ok:
        raise for_status(response.status_code, f"Graph {method} {path}", response.text)
    if response.status_code == 204 or not response.content:
        return {}
    try:
        answer = response.json()
    except ValueError as error:
        raise CalendarError(f"Graph {method} {path}: not JSON") from error
    return answer if isinstance(answer, dict) else {}


_addresses: dict[str, str] = {}
ADDRESS_CACHE_SIZE = 1000


def _schedule_id(access_token: str) -> str:
    """getSchedule needs the account's address: asked once per access token (it lives an hour),
    remembered under the token's hash, never the token itself."""
    key = hashlib.sha256(access_token.encode()).hexdigest()
    if address := _addresses.get(key):
        return address
    address = OutlookCalendar().account_email(access_token)
    if not address:
        raise CalendarError("Graph /me gave no address for getSchedule")
    if len(_addresses) >= ADDRESS_CACHE_SIZE:
        _addresses.clear()
    _addresses[key] = address
    return address


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _parse_graph(value: dict[str, str]) -> datetime:
    """Graph times have no offset and 7 fractional digits; the zone is given beside them."""
    text = value["dateTime"]
    if "." in text:
        whole, fraction = text.split(".", 1)
        text = f"{whole}.{fraction[:6]}"
    moment = datetime.fromisoformat(text)
    zone = value.get("timeZone", "UTC")
    if moment.tzinfo is None:
        if zone.upper() not in {"UTC", "ETC/UTC"}:
            raise CalendarError(f"Graph answered in time zone {zone!r}, not UTC")
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
