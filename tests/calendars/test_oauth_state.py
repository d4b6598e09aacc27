"""O-5: the OAuth callback is trusted only with the state and PKCE verifier of this very request.

The agent's browser is played by the test client (Dynchat's side) and `requests` (the provider's
authorize page, auto-consenting in the sandbox); a callback that does not belong to the agent's
own, fresh, unused authorization is refused with 400, nothing is stored, the code is never
exchanged, and the refusal is logged.
"""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from calendars.models import CalendarAudit, CalendarConnection
from calendars.oauth import SESSION_KEY
from dynchat.models import User

PROVIDERS = ["google", "microsoft"]
TOKEN_ENDPOINT = {"google": "google.token", "microsoft": "ms.token"}
EMAIL = "alex.agent@acme.example"


pytestmark = pytest.mark.usefixtures("calendar_settings")


def start(client: Client, provider: str) -> str:
    """The authorization URL Dynchat sends the agent to after "Connect"."""
    response = client.post(reverse("calendars:connect"), {"provider": provider})
    assert response.status_code == 302
    return str(response["Location"])


def consent(sandbox: Any, authorization_url: str) -> dict[str, str]:
    """The provider's answer: the callback query the sandbox redirects the browser to."""
    sandbox.auto_consent(EMAIL)
    answer = requests.get(authorization_url, allow_redirects=False, timeout=10)
    assert answer.status_code in {302, 303}
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def call_back(client: Client, provider: str, query: dict[str, str]) -> Any:
    return client.get(f"{reverse('calendars:callback', args=[provider])}?{urlencode(query)}")


def assert_refused(response: Any, sandbox: Any, provider: str, caplog: Any) -> None:
    assert response.status_code == 400
    assert "The calendar was not connected" in response.content.decode()
    assert not CalendarConnection.objects.exists()
    assert not CalendarAudit.objects.exists()
    assert sandbox.calls(TOKEN_ENDPOINT[provider]) == 0
    assert "Calendar connection refused" in caplog.text


@pytest.fixture
def log(caplog: Any) -> Any:
    caplog.set_level(logging.WARNING, logger="calendars")
    return caplog


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_authorization_request_always_carries_an_s256_challenge(
    agent_client: Client, provider: str
) -> None:
    query = parse_qs(urlsplit(start(agent_client, provider)).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert query["redirect_uri"] == [
        f"{settings.SITE_URL}{reverse('calendars:callback', args=[provider])}"
    ]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_state_has_at_least_128_bits_of_entropy(agent_client: Client, provider: str) -> None:
    states = [parse_qs(urlsplit(start(agent_client, provider)).query)["state"][0] for _ in "ab"]
    raw = [base64.urlsafe_b64decode(state + "=" * (-len(state) % 4)) for state in states]
    assert all(len(value) * 8 >= 128 for value in raw)
    assert states[0] != states[1]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_callback_without_state_is_refused(
    agent_client: Client, calendar_sandbox: Any, provider: str, log: Any
) -> None:
    query = consent(calendar_sandbox, start(agent_client, provider))
    del query["state"]
    assert_refused(call_back(agent_client, provider, query), calendar_sandbox, provider, log)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_callback_with_a_wrong_state_is_refused(
    agent_client: Client, calendar_sandbox: Any, provider: str, log: Any
) -> None:
    query = consent(calendar_sandbox, start(agent_client, provider))
    query["state"] = query["state"][:-4] + "AAAA"
    assert_refused(call_back(agent_client, provider, query), calendar_sandbox, provider, log)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_callback_more_than_ten_minutes_late_is_refused(
    agent_client: Client, calendar_sandbox: Any, provider: str, log: Any
) -> None:
    query = consent(calendar_sandbox, start(agent_client, provider))
    with time_machine.travel(timedelta(minutes=10, seconds=5)):
        response = call_back(agent_client, provider, query)
    assert_refused(response, calendar_sandbox, provider, log)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_state_is_used_once(
    agent_client: Client, calendar_sandbox: Any, provider: str, log: Any
) -> None:
    query = consent(calendar_sandbox, start(agent_client, provider))
    assert call_back(agent_client, provider, query).status_code == 302
    exchanges = calendar_sandbox.calls(TOKEN_ENDPOINT[provider])
    audits = CalendarAudit.objects.count()

    response = call_back(agent_client, provider, query)

    assert response.status_code == 400
    assert calendar_sandbox.calls(TOKEN_ENDPOINT[provider]) == exchanges
    assert CalendarAudit.objects.count() == audits
    assert "Calendar connection refused" in log.text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_state_from_another_session_is_refused(
    agent: User, agent_client: Client, calendar_sandbox: Any, provider: str, log: Any
) -> None:
    query = consent(calendar_sandbox, start(agent_client, provider))
    other_session = Client()
    other_session.force_login(agent)
    assert_refused(call_back(other_session, provider, query), calendar_sandbox, provider, log)


@pytest.mark.parametrize(
    ("started", "returned"), [("google", "microsoft"), ("microsoft", "google")]
)
def test_a_state_issued_for_the_other_provider_is_refused(
    agent_client: Client, calendar_sandbox: Any, started: str, returned: str, log: Any
) -> None:
    query = consent(calendar_sandbox, start(agent_client, started))
    response = call_back(agent_client, returned, query)
    assert_refused(response, calendar_sandbox, started, log)
    assert calendar_sandbox.calls(TOKEN_ENDPOINT[returned]) == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_session_without_the_code_verifier_is_refused(
    agent_client: Client, calendar_sandbox: Any, provider: str, log: Any
) -> None:
    query = consent(calendar_sandbox, start(agent_client, provider))
    session = agent_client.session
    pending = session[SESSION_KEY]
    for entry in pending:
        del entry["code_verifier"]
    session[SESSION_KEY] = pending
    session.save()
    assert_refused(call_back(agent_client, provider, query), calendar_sandbox, provider, log)


def other_issuer(provider: str) -> str:
    if provider == "google":
        return f"{settings.MS_AUTHORITY}/v2.0"
    return "https://accounts.google.com"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_callback_naming_the_other_providers_issuer_is_refused(
    agent_client: Client, calendar_sandbox: Any, provider: str, log: Any
) -> None:
    query = consent(calendar_sandbox, start(agent_client, provider))
    query["iss"] = other_issuer(provider)
    assert_refused(call_back(agent_client, provider, query), calendar_sandbox, provider, log)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_error_is_refused_and_uses_up_the_state(
    agent_client: Client, calendar_sandbox: Any, provider: str, log: Any
) -> None:
    state = parse_qs(urlsplit(start(agent_client, provider)).query)["state"][0]
    query = {"error": "access_denied", "state": state}
    assert_refused(call_back(agent_client, provider, query), calendar_sandbox, provider, log)
    assert agent_client.session[SESSION_KEY] == []
