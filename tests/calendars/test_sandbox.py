"""The calendar sandbox answers the real client libraries — google-auth-oauthlib, google-auth,
google-api-python-client, msal and requests — over real HTTP on 127.0.0.1, as Google and Microsoft
would, so the O-*, B-6, B-8 and RR-6 tests can script it (faults, busy times, revocation) and
count what reached it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msal
import pytest
import requests
from django.conf import settings as django_settings
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError

from calendars.sandbox import CalendarSandbox

ANN = "ann@example.com"
BOB = "bob@contoso.example"
GOOGLE_CALLBACK = "http://localhost:8000/calendar/callback/google/"
MS_CALLBACK = "http://localhost:8000/calendar/callback/microsoft/"
GOOGLE_SCOPES = [
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",
]
MS_SCOPES = ["Calendars.ReadWrite", "User.Read"]
MONDAY = datetime(2030, 1, 7, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(hours=hour, minutes=minute)


# Clients, built as Dynchat builds them


def google_flow(sandbox: CalendarSandbox, **kwargs: Any) -> Flow:
    o = sandbox.settings_overrides()
    config = {
        "web": {
            "client_id": o["GOOGLE_CLIENT_ID"],
            "client_secret": o["GOOGLE_CLIENT_SECRET"],
            "auth_uri": o["GOOGLE_AUTH_URI"],
            "token_uri": o["GOOGLE_TOKEN_URI"],
            "redirect_uris": [GOOGLE_CALLBACK],
        }
    }
    return Flow.from_client_config(
        config, scopes=GOOGLE_SCOPES, redirect_uri=GOOGLE_CALLBACK, **kwargs
    )


def google_credentials(sandbox: CalendarSandbox, tokens: dict[str, Any], **kwargs: Any) -> Any:
    o = sandbox.settings_overrides()
    return Credentials(  # type: ignore[no-untyped-call]
        token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=o["GOOGLE_TOKEN_URI"],
        client_id=o["GOOGLE_CLIENT_ID"],
        client_secret=o["GOOGLE_CLIENT_SECRET"],
        scopes=GOOGLE_SCOPES,
        **kwargs,
    )


def calendar(sandbox: CalendarSandbox, credentials: Any, *, discovery: bool = False) -> Any:
    """The Calendar client: from the sandbox's discovery document, or the bundled one."""
    root = sandbox.settings_overrides()["GOOGLE_CALENDAR_ROOT_URL"]
    if discovery:
        return build(
            "calendar",
            "v3",
            credentials=credentials,
            discoveryServiceUrl=root + "discovery/v1/apis/calendar/v3/rest",
            static_discovery=False,
            cache_discovery=False,
        )
    return build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": root + "calendar/v3/"},
    )


def tls_session(sandbox: CalendarSandbox) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise win over verify
    session.verify = sandbox.ca_file
    return session


def msal_app(sandbox: CalendarSandbox) -> msal.ConfidentialClientApplication:
    """A fresh app each time: msal caches 400 answers per app instance for 60 s."""
    o = sandbox.settings_overrides()
    return msal.ConfidentialClientApplication(
        o["MS_CLIENT_ID"],
        client_credential=o["MS_CLIENT_SECRET"],
        authority=o["MS_AUTHORITY"],
        instance_discovery=False,
        validate_authority=False,
        http_client=tls_session(sandbox),
    )


def graph(sandbox: CalendarSandbox, access_token: str) -> requests.Session:
    session = tls_session(sandbox)
    session.headers["Authorization"] = f"Bearer {access_token}"
    return session


def callback_query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def follow(url: str) -> str:
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return str(response.headers["Location"])


@pytest.fixture
def sandbox(calendar_sandbox: CalendarSandbox) -> Iterator[CalendarSandbox]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # msal: "form_post is recommended"
        warnings.simplefilter("ignore", DeprecationWarning)
        yield calendar_sandbox


# Consent


def test_the_consent_page_asks_for_an_email_and_allow_redirects_with_a_code(
    sandbox: CalendarSandbox,
) -> None:
    url, state = google_flow(sandbox).authorization_url(login_hint=ANN)
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert 'name="email"' in page.text
    assert f'value="{ANN}"' in page.text
    assert ">Allow</button>" in page.text
    form = {
        name: values[0]
        for name, values in parse_qs(urlsplit(url).query).items()
        if name != "login_hint"
    }
    allowed = requests.post(
        url.split("?")[0],
        data={**form, "email": ANN, "decision": "allow"},
        allow_redirects=False,
        timeout=5,
    )
    assert allowed.status_code == 302
    answer = callback_query(allowed.headers["Location"])
    assert allowed.headers["Location"].startswith(GOOGLE_CALLBACK)
    assert answer["state"] == state
    assert answer["code"]


def test_deny_on_the_consent_page_answers_access_denied(sandbox: CalendarSandbox) -> None:
    url, state = google_flow(sandbox).authorization_url()
    form = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    denied = requests.post(
        url.split("?")[0], data={**form, "decision": "deny"}, allow_redirects=False, timeout=5
    )
    assert callback_query(denied.headers["Location"]) == {"error": "access_denied", "state": state}


def test_an_unknown_client_gets_an_error_page_not_a_redirect(sandbox: CalendarSandbox) -> None:
    url, _ = google_flow(sandbox).authorization_url()
    response = requests.get(url.replace("sandbox-google-client", "someone-else"), timeout=5)
    assert response.status_code == 401
    assert "invalid_client" in response.text


# Google


def test_google_code_exchange_checks_pkce_and_uses_each_code_once(
    sandbox: CalendarSandbox,
) -> None:
    sandbox.auto_consent(ANN)
    flow = google_flow(sandbox)
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    assert "code_challenge_method=S256" in url
    location = follow(url)

    wrong = google_flow(sandbox, state=state, code_verifier="x" * 64)
    with pytest.raises(InvalidGrantError):
        wrong.fetch_token(authorization_response=location)  # the code is spent now

    location = follow(url)
    callback = google_flow(
        sandbox, state=state, code_verifier=flow.code_verifier, autogenerate_code_verifier=False
    )
    callback.fetch_token(authorization_response=location)  # HTTP Basic client authentication
    credentials = callback.credentials
    assert credentials.token
    assert credentials.refresh_token
    with pytest.raises(InvalidGrantError):
        callback.fetch_token(authorization_response=location)
    assert sandbox.calls("google.token") == 3


def test_google_refresh_authenticates_the_client_in_the_body(sandbox: CalendarSandbox) -> None:
    credentials = google_credentials(sandbox, sandbox.issue_tokens("google", ANN))
    credentials.refresh(GoogleRequest())
    assert credentials.token
    assert credentials.valid

    stranger = google_credentials(sandbox, sandbox.issue_tokens("google", ANN))
    stranger._client_secret = "not-the-secret"
    with pytest.raises(RefreshError, match="invalid_client"):
        stranger.refresh(GoogleRequest())


def test_a_revoked_google_account_refreshes_into_invalid_grant(sandbox: CalendarSandbox) -> None:
    credentials = google_credentials(sandbox, sandbox.issue_tokens("google", ANN))
    sandbox.revoke(ANN)
    with pytest.raises(RefreshError, match="invalid_grant: Token has been expired or revoked"):
        credentials.refresh(GoogleRequest())


def test_the_revoke_endpoint_revokes_the_grant(sandbox: CalendarSandbox) -> None:
    tokens = sandbox.issue_tokens("google", ANN)
    revoke_uri = sandbox.settings_overrides()["GOOGLE_REVOKE_URI"]
    assert requests.post(revoke_uri, params={"token": tokens["refresh_token"]}).status_code == 200
    assert requests.post(revoke_uri, params={"token": tokens["refresh_token"]}).status_code == 400
    with pytest.raises(RefreshError, match="invalid_grant"):
        google_credentials(sandbox, tokens).refresh(GoogleRequest())
    assert sandbox.calls("google.revoke") == 2


@pytest.mark.parametrize("discovery", [True, False], ids=["discovery", "bundled"])
def test_google_free_busy_answers_the_busy_times_set(
    sandbox: CalendarSandbox, discovery: bool
) -> None:
    sandbox.set_busy(ANN, [(at(10), at(11)), (at(23), at(25))])
    sandbox.add_busy(ANN, at(14), at(15))
    credentials = google_credentials(sandbox, sandbox.issue_tokens("google", ANN))
    service = calendar(sandbox, credentials, discovery=discovery)
    body = {
        "timeMin": "2030-01-07T00:00:00Z",
        "timeMax": "2030-01-08T00:00:00Z",
        "timeZone": "UTC",
        "items": [{"id": "primary"}, {"id": "nobody@example.com"}],
    }
    answer = service.freebusy().query(body=body).execute()
    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2030-01-07T10:00:00Z", "end": "2030-01-07T11:00:00Z"},
        {"start": "2030-01-07T14:00:00Z", "end": "2030-01-07T15:00:00Z"},
        {"start": "2030-01-07T23:00:00Z", "end": "2030-01-08T00:00:00Z"},  # clipped
    ]
    assert answer["calendars"]["nobody@example.com"]["errors"][0]["reason"] == "notFound"
    assert sandbox.calls("google.freebusy") == 1


def test_an_expired_google_access_token_is_refreshed_once_before_the_call(
    sandbox: CalendarSandbox,
) -> None:
    tokens = sandbox.issue_tokens("google", ANN, expires_in=0)
    credentials = google_credentials(sandbox, tokens)  # no expiry known: the 401 tells
    service = calendar(sandbox, credentials)
    body = {"timeMin": "2030-01-07T00:00:00Z", "timeMax": "2030-01-08T00:00:00Z"}
    service.freebusy().query(body={**body, "items": [{"id": "primary"}]}).execute()
    assert sandbox.calls("google.token") == 1
    assert sandbox.calls("google.freebusy") == 2


EVENT = {
    "id": "dc00000000042",
    "summary": "Intro call",
    "start": {"dateTime": "2030-01-07T14:00:00+01:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": "2030-01-07T14:30:00+01:00", "timeZone": "Europe/Berlin"},
    "attendees": [{"email": "visitor@example.org", "displayName": "Visitor V"}],
    "conferenceData": {
        "createRequest": {"requestId": "m-42", "conferenceSolutionKey": {"type": "hangoutsMeet"}}
    },
}


def test_google_events_are_idempotent_on_the_client_chosen_id(sandbox: CalendarSandbox) -> None:
    service = calendar(sandbox, google_credentials(sandbox, sandbox.issue_tokens("google", ANN)))
    events = service.events()
    created = events.insert(
        calendarId="primary", sendUpdates="all", conferenceDataVersion=1, body=EVENT
    ).execute()
    assert created["id"] == EVENT["id"]
    assert created["hangoutLink"].startswith("https://meet.google.com/")
    assert created["conferenceData"]["entryPoints"][0]["uri"] == created["hangoutLink"]

    with pytest.raises(HttpError) as duplicate:
        events.insert(calendarId="primary", body=EVENT).execute()
    assert duplicate.value.status_code == 409
    assert duplicate.value.error_details[0]["reason"] == "duplicate"
    assert events.get(calendarId="primary", eventId=EVENT["id"]).execute()["id"] == EVENT["id"]

    [event] = sandbox.events(ANN)
    assert event["start"] == at(13)
    assert event["end"] == at(13, 30)
    assert event["attendees"] == ["visitor@example.org"]
    assert event["summary"] == "Intro call"
    assert event["join_url"] == created["hangoutLink"]
    assert event["send_updates"] == "all"
    assert sandbox.calls("google.events.insert") == 2


def test_a_deleted_google_event_is_gone_but_keeps_its_id(sandbox: CalendarSandbox) -> None:
    service = calendar(sandbox, google_credentials(sandbox, sandbox.issue_tokens("google", ANN)))
    service.events().insert(calendarId="primary", body=EVENT).execute()
    service.events().delete(calendarId="primary", eventId=EVENT["id"]).execute()
    assert sandbox.events(ANN) == []
    assert [e["status"] for e in sandbox.events(ANN, include_deleted=True)] == ["cancelled"]
    with pytest.raises(HttpError) as again:
        service.events().delete(calendarId="primary", eventId=EVENT["id"]).execute()
    assert again.value.status_code == 410
    with pytest.raises(HttpError) as reinsert:
        service.events().insert(calendarId="primary", body=EVENT).execute()
    assert reinsert.value.status_code == 409


def test_google_api_calls_without_a_valid_token_are_401(sandbox: CalendarSandbox) -> None:
    root = sandbox.google_base
    response = requests.post(
        f"{root}/calendar/v3/freeBusy", json={}, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["errors"][0]["reason"] == "authError"


# Microsoft


def ms_sign_in(sandbox: CalendarSandbox, email: str = BOB) -> dict[str, Any]:
    sandbox.auto_consent(email)
    app = msal_app(sandbox)
    flow = app.initiate_auth_code_flow(MS_SCOPES, redirect_uri=MS_CALLBACK, login_hint=email)
    result: dict[str, Any] = app.acquire_token_by_auth_code_flow(
        flow, callback_query(follow(flow["auth_uri"]))
    )
    return result


def test_msal_signs_in_with_pkce_and_the_nonce_in_the_id_token(sandbox: CalendarSandbox) -> None:
    result = ms_sign_in(sandbox)
    assert "error" not in result, result
    claims = result["id_token_claims"]
    assert claims["preferred_username"] == BOB
    assert claims["iss"] == sandbox.config.issuer
    assert claims["aud"] == sandbox.settings_overrides()["MS_CLIENT_ID"]
    assert result["access_token"]
    assert result["refresh_token"]


def test_msal_refuses_a_code_redeemed_with_the_wrong_verifier(sandbox: CalendarSandbox) -> None:
    sandbox.auto_consent(BOB)
    app = msal_app(sandbox)
    flow = app.initiate_auth_code_flow(MS_SCOPES, redirect_uri=MS_CALLBACK)
    query = callback_query(follow(flow["auth_uri"]))
    result = app.acquire_token_by_auth_code_flow({**flow, "code_verifier": "y" * 50}, query)
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [501481]


def test_microsoft_refresh_tokens_rotate_and_the_old_one_is_refused(
    sandbox: CalendarSandbox,
) -> None:
    first = sandbox.issue_tokens("microsoft", BOB)["refresh_token"]
    renewed = msal_app(sandbox).acquire_token_by_refresh_token(first, MS_SCOPES)
    assert renewed["access_token"]
    assert renewed["refresh_token"] != first

    reused = msal_app(sandbox).acquire_token_by_refresh_token(first, MS_SCOPES)
    assert reused["error"] == "invalid_grant"
    assert reused["error_codes"] == [70000]

    sandbox.revoke(BOB)
    revoked = msal_app(sandbox).acquire_token_by_refresh_token(renewed["refresh_token"], MS_SCOPES)
    assert revoked["error"] == "invalid_grant"
    assert revoked["error_codes"] == [50173]


def test_the_microsoft_token_endpoint_also_takes_http_basic(sandbox: CalendarSandbox) -> None:
    o = sandbox.settings_overrides()
    refresh = sandbox.issue_tokens("microsoft", BOB)["refresh_token"]
    response = tls_session(sandbox).post(
        f"{o['MS_AUTHORITY']}/oauth2/v2.0/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh, "scope": "User.Read"},
        auth=(o["MS_CLIENT_ID"], o["MS_CLIENT_SECRET"]),
    )
    assert response.status_code == 200
    assert response.json()["refresh_token"] != refresh
    wrong = tls_session(sandbox).post(
        f"{o['MS_AUTHORITY']}/oauth2/v2.0/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(o["MS_CLIENT_ID"], "not-the-secret"),
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def test_the_microsoft_endpoints_are_trusted_only_through_the_ca_file(
    sandbox: CalendarSandbox,
) -> None:
    url = f"{sandbox.microsoft_base}/common/v2.0/.well-known/openid-configuration"
    untrusting = requests.Session()
    untrusting.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        untrusting.get(url)
    assert tls_session(sandbox).get(url).json()["issuer"] == sandbox.config.issuer


def test_graph_answers_me_and_the_schedule(sandbox: CalendarSandbox) -> None:
    sandbox.set_busy(BOB, [(at(10), at(11))])
    session = graph(sandbox, sandbox.issue_tokens("microsoft", BOB)["access_token"])
    base = sandbox.settings_overrides()["GRAPH_BASE_URL"]
    assert session.get(f"{base}/me").json()["mail"] == BOB
    schedule = session.post(
        f"{base}/me/calendar/getSchedule",
        headers={"Prefer": 'outlook.timezone="UTC"'},
        json={
            "schedules": [BOB],
            "startTime": {"dateTime": "2030-01-07T08:00:00", "timeZone": "UTC"},
            "endTime": {"dateTime": "2030-01-07T12:00:00", "timeZone": "UTC"},
            "availabilityViewInterval": 60,
        },
    ).json()["value"][0]
    assert schedule["availabilityView"] == "0020"
    [item] = schedule["scheduleItems"]
    assert item["status"] == "busy"
    assert item["start"] == {"dateTime": "2030-01-07T10:00:00.0000000", "timeZone": "UTC"}
    assert sandbox.calls("graph.getSchedule") == 1


def test_graph_events_are_idempotent_on_the_transaction_id(sandbox: CalendarSandbox) -> None:
    session = graph(sandbox, sandbox.issue_tokens("microsoft", BOB)["access_token"])
    base = sandbox.settings_overrides()["GRAPH_BASE_URL"]
    body = {
        "subject": "Intro call",
        "start": {"dateTime": "2030-01-07T14:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2030-01-07T14:30:00", "timeZone": "UTC"},
        "attendees": [{"emailAddress": {"address": "visitor@example.org"}, "type": "required"}],
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
        "transactionId": "dynchat-meeting-42",
    }
    first = session.post(f"{base}/me/events", json=body)
    second = session.post(f"{base}/me/events", json=body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["onlineMeeting"]["joinUrl"].startswith("https://teams.microsoft.com/")
    [event] = sandbox.events(BOB)
    assert event["transaction_id"] == "dynchat-meeting-42"
    assert event["start"] == at(14)
    assert event["send_updates"] == "all"

    assert session.delete(f"{base}/me/events/{event['id']}").status_code == 204
    assert session.delete(f"{base}/me/events/{event['id']}").status_code == 404
    assert sandbox.events(BOB) == []
    assert sandbox.calls("graph.events.create") == 2
    assert sandbox.calls("graph.events.delete") == 2


def test_graph_refuses_unknown_tokens_in_graphs_shape(sandbox: CalendarSandbox) -> None:
    response = graph(sandbox, "nope").get(f"{sandbox.microsoft_base}/v1.0/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


# Faults


def test_faults_fail_the_next_calls_then_pass(sandbox: CalendarSandbox) -> None:
    service = calendar(sandbox, google_credentials(sandbox, sandbox.issue_tokens("google", ANN)))
    query = service.freebusy().query(
        body={"timeMin": "2030-01-07T00:00:00Z", "timeMax": "2030-01-08T00:00:00Z", "items": []}
    )
    sandbox.fault("google.freebusy", "503", times=2)
    for _ in range(2):
        with pytest.raises(HttpError) as unavailable:
            query.execute()
        assert unavailable.value.status_code == 503
    assert query.execute()["kind"] == "calendar#freeBusy"
    assert sandbox.calls("google.freebusy") == 3


def test_token_endpoint_faults_reach_the_clients_as_their_errors(sandbox: CalendarSandbox) -> None:
    sandbox.fault("google.token", "invalid_grant")
    credentials = google_credentials(sandbox, sandbox.issue_tokens("google", ANN))
    with pytest.raises(RefreshError, match="invalid_grant"):
        credentials.refresh(GoogleRequest())
    sandbox.fault("ms.token", "500")
    refresh = sandbox.issue_tokens("microsoft", BOB)["refresh_token"]
    with pytest.raises(msal.exceptions.MsalServiceError, match="500"):
        msal_app(sandbox).acquire_token_by_refresh_token(refresh, MS_SCOPES)


def test_graph_faults_answer_in_graphs_shape(sandbox: CalendarSandbox) -> None:
    sandbox.fault("graph.me", "503")
    response = graph(sandbox, sandbox.issue_tokens("microsoft", BOB)["access_token"]).get(
        f"{sandbox.microsoft_base}/v1.0/me"
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "ServiceNotAvailable"


def test_a_timeout_fault_holds_the_answer_past_the_clients_timeout(
    sandbox: CalendarSandbox,
) -> None:
    sandbox.fault("graph.events.create", "timeout")
    session = graph(sandbox, sandbox.issue_tokens("microsoft", BOB)["access_token"])
    with pytest.raises(requests.exceptions.Timeout):
        session.post(f"{sandbox.microsoft_base}/v1.0/me/events", json={}, timeout=1)
    assert sandbox.events(BOB) == []


def test_unknown_fault_names_are_refused(sandbox: CalendarSandbox) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        sandbox.fault("google.everything", "500")
    with pytest.raises(ValueError, match="fault"):
        sandbox.fault("google.token", "418")


# Control and fixtures


def test_the_control_api_drives_the_sandbox_from_another_process(
    sandbox: CalendarSandbox,
) -> None:
    control = f"{sandbox.google_base}/_sandbox"
    tokens = requests.post(
        f"{control}/issue-tokens", json={"provider": "microsoft", "email": BOB}
    ).json()
    assert set(tokens) == {"access_token", "refresh_token", "expires_in"}
    busy = [["2030-01-07T10:00:00+00:00", "2030-01-07T11:00:00+00:00"]]
    assert requests.post(f"{control}/busy", json={"email": BOB, "busy": busy}).ok
    assert requests.post(f"{control}/fault", json={"endpoint": "graph.me", "kind": "500"}).ok
    session = graph(sandbox, tokens["access_token"])
    assert session.get(f"{sandbox.microsoft_base}/v1.0/me").status_code == 500
    assert requests.get(f"{control}/calls", params={"endpoint": "graph.me"}).json()["count"] == 1
    session.post(
        f"{sandbox.microsoft_base}/v1.0/me/events",
        json={
            "start": {"dateTime": "2030-01-07T14:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2030-01-07T14:30:00", "timeZone": "UTC"},
        },
    )
    [event] = requests.get(f"{control}/events", params={"email": BOB}).json()["events"]
    assert event["start"] == "2030-01-07T14:00:00+00:00"
    assert requests.post(f"{control}/revoke", json={"email": BOB}).json()["revoked"] == 2
    assert requests.post(f"{control}/auto-consent", json={"email": ANN}).ok
    assert follow(google_flow(sandbox).authorization_url()[0]).startswith(GOOGLE_CALLBACK)
    assert (
        requests.post(f"{control}/fault", json={"endpoint": "x", "kind": "500"}).status_code == 400
    )

    assert requests.post(f"{control}/reset").ok
    assert sandbox.calls("graph.me") == 0
    assert sandbox.events(BOB) == []
    assert requests.get(google_flow(sandbox).authorization_url()[0]).status_code == 200


def test_reset_forgets_tokens_busy_times_events_and_faults(sandbox: CalendarSandbox) -> None:
    tokens = sandbox.issue_tokens("google", ANN)
    sandbox.set_busy(ANN, [(at(10), at(11))])
    sandbox.fault("google.freebusy", "500")
    sandbox.reset()
    with pytest.raises(RefreshError, match="invalid_grant"):
        google_credentials(sandbox, tokens).refresh(GoogleRequest())
    service = calendar(sandbox, google_credentials(sandbox, sandbox.issue_tokens("google", ANN)))
    answer = (
        service.freebusy()
        .query(
            body={
                "timeMin": "2030-01-07T00:00:00Z",
                "timeMax": "2030-01-08T00:00:00Z",
                "items": [{"id": "primary"}],
            }
        )
        .execute()
    )
    assert answer["calendars"]["primary"]["busy"] == []


def test_calendar_settings_point_dynchat_at_the_sandbox(
    calendar_sandbox: CalendarSandbox, calendar_settings: dict[str, Any]
) -> None:
    assert f"{calendar_sandbox.google_base}/token" == django_settings.GOOGLE_TOKEN_URI
    assert f"{calendar_sandbox.google_base}/" == django_settings.GOOGLE_CALENDAR_ROOT_URL
    assert f"{calendar_sandbox.microsoft_base}/common" == django_settings.MS_AUTHORITY
    assert f"{calendar_sandbox.microsoft_base}/v1.0" == django_settings.GRAPH_BASE_URL
    assert calendar_sandbox.ca_file == django_settings.MS_CA_BUNDLE
    assert django_settings.CALENDAR_TIMEOUT_SECONDS == 1
