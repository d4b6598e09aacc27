"""Bots and bursts at the widget's lead capture: answered 202, never sent to Marketo (W-11).

The outbox is never drained here: "no Marketo call" is asserted on the outbox rows themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from dialogues.models import DialogueVersion, SiteAlert, Visitor, default_targeting
from dialogues.services import create_dialogue, publish
from dynchat.models import Site
from sync.models import OutboxKind, OutboxMessage
from tests.conftest import ALLOWED_ORIGIN

# The start of a ten-minute window, so a run never straddles two (the breaker's window slides,
# the per-address limits are fixed windows).
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PAGE = f"{ALLOWED_ORIGIN}/pricing"
CAPTURE_FLOW: dict[str, Any] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hi! Shall we keep in touch?", "next": "email"},
        "email": {
            "type": "capture",
            "input": "email",
            "prompt": "Your e-mail?",
            "placeholder": "you@example.com",
            "field": "email",
            "skip_if_known": False,
            "overwrite": False,
            "next": "bye",
        },
        "bye": {"type": "end"},
    },
}


# Helpers shared by the widget abuse tests (W-3, W-5, W-10, W-11).


def published(site: Site, flow: dict[str, Any] = CAPTURE_FLOW) -> DialogueVersion:
    """A published dialogue on every page of the site; its live version."""
    dialogue = create_dialogue(
        site=site,
        name="Keep in touch",
        flow=flow,
        targeting={**default_targeting(), "include": [f"{ALLOWED_ORIGIN}/*"]},
    )
    return publish(dialogue)


def visitor_key(number: int) -> str:
    return f"visitor-{number:010d}"


def start(
    client: Client, version: DialogueVersion, visitor: str, *, ip: str = "192.0.2.1", **extra: Any
) -> Any:
    """POST /conversations as the widget on the allowed origin does."""
    body = {"site": version.dialogue.site.key, "visitor": visitor, "version": version.pk}
    return client.post(
        reverse("widget:conversations"),
        {**body, "url": PAGE},
        content_type="application/json",
        headers={"Origin": ALLOWED_ORIGIN},
        REMOTE_ADDR=ip,
        **extra,
    )


def send(
    client: Client,
    started: Any,
    events: list[dict[str, Any]],
    *,
    ip: str = "192.0.2.1",
    **extra: Any,
) -> Any:
    """POST events to the conversation a start response returned, with its token."""
    conversation = started.json()["conversation"]["id"]
    return client.post(
        reverse("widget:events", kwargs={"conversation_id": conversation}),
        {"events": events},
        content_type="application/json",
        headers={"Origin": ALLOWED_ORIGIN, "Authorization": f"Bearer {started.json()['token']}"},
        REMOTE_ADDR=ip,
        **extra,
    )


def capture(
    value: str, *, seq: int = 1, card: str = "email", hp: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {"seq": seq, "type": "capture", "card": card, "value": value}
    if hp is not None:
        event["hp"] = hp
    return event


def raised_limits(**rates: str) -> dict[str, str]:
    return {**settings.RATELIMITS, **rates}


# W-11 itself.


@pytest.fixture
def version(site: Site) -> DialogueVersion:
    return published(site)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def assert_nothing_captured() -> None:
    assert not Visitor.objects.exclude(email="").exists()
    assert not any("email" in fields for fields in Visitor.objects.values_list("fields", flat=True))
    assert not OutboxMessage.objects.exists()


def anti_automation(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "dynchat.security" and "anti-automation" in r.getMessage()
    ]


def test_a_filled_honeypot_is_answered_202_and_goes_nowhere(
    client: Client,
    version: DialogueVersion,
    clock: time_machine.Traveller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = start(client, version, visitor_key(1))
    assert started.status_code == 201
    clock.shift(timedelta(seconds=20))
    with caplog.at_level(logging.INFO, logger="dynchat.security"):
        response = send(client, started, [capture("bot@spam.example", hp="http://spam.example")])
    assert response.status_code == 202
    assert response.json()["accepted"] == 1
    assert_nothing_captured()
    [logged] = anti_automation(caplog)
    assert "honeypot" in logged
    assert "bot@spam.example" not in caplog.text


def test_an_e_mail_sooner_than_1_5_s_after_the_start_is_answered_202_and_goes_nowhere(
    client: Client,
    version: DialogueVersion,
    clock: time_machine.Traveller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = start(client, version, visitor_key(1))
    clock.shift(timedelta(seconds=1.4))
    with caplog.at_level(logging.INFO, logger="dynchat.security"):
        response = send(client, started, [capture("fast@spam.example", hp="")])
    assert response.status_code == 202
    assert_nothing_captured()
    [logged] = anti_automation(caplog)
    assert "too_fast" in logged


def test_a_person_who_takes_their_time_is_captured_and_pushed(
    client: Client, version: DialogueVersion, clock: time_machine.Traveller
) -> None:
    """The control for the two above: the same capture, 1.5 s later and honeypot empty."""
    started = start(client, version, visitor_key(1))
    clock.shift(timedelta(seconds=1.5))
    assert send(client, started, [capture("jane@example.com", hp="")]).status_code == 202
    assert Visitor.objects.get().email == "jane@example.com"
    assert OutboxMessage.objects.filter(
        kind=OutboxKind.PUSH_LEAD, email="jane@example.com"
    ).exists()


def burst(
    client: Client, version: DialogueVersion, clock: time_machine.Traveller, leads: int, ips: int
) -> list[int]:
    """``leads`` visitors from ``ips`` addresses each leave a distinct e-mail, within 10 minutes."""
    started = [
        start(client, version, visitor_key(n), ip=f"198.51.100.{n % ips}") for n in range(leads)
    ]
    assert {response.status_code for response in started} == {201}
    clock.shift(timedelta(seconds=5))
    return [
        send(
            client, response, [capture(f"lead{n}@fake.example")], ip=f"198.51.100.{n % ips}"
        ).status_code
        for n, response in enumerate(started)
    ]


def assert_breaker_tripped_at(limit: int, leads: int) -> None:
    pushed = OutboxMessage.objects.filter(kind=OutboxKind.PUSH_LEAD)
    assert pushed.count() == limit
    quarantined = Visitor.objects.filter(quarantined=True)
    assert quarantined.count() == leads - limit
    # The first ``limit`` got through, in order; every later one is held back.
    assert set(pushed.values_list("email", flat=True)) == {
        f"lead{n}@fake.example" for n in range(limit)
    }
    held = set(quarantined.values_list("email", flat=True))
    assert held == {f"lead{n}@fake.example" for n in range(limit, leads)}
    assert not OutboxMessage.objects.filter(email__in=held).exists()
    alert = SiteAlert.objects.get()
    assert alert.kind == SiteAlert.Kind.LEAD_BURST
    assert alert.resolved_at is None


@pytest.fixture
def generous_addresses() -> Iterator[None]:
    """Per-address limits out of the way: this is about the per-site breaker."""
    rates = raised_limits(
        **{"widget-conversation": "1000/m", "widget-events": "1000/m", "widget-lead": "1000/h"}
    )
    with override_settings(RATELIMITS=rates):
        yield


@pytest.mark.usefixtures("generous_addresses")
@override_settings(LEAD_BURST_LIMIT=20)
def test_a_burst_beyond_the_limit_is_quarantined_and_alerted_once(
    client: Client, version: DialogueVersion, clock: time_machine.Traveller
) -> None:
    statuses = burst(client, version, clock, leads=50, ips=10)
    assert set(statuses) == {202}
    assert_breaker_tripped_at(20, leads=50)


@pytest.mark.usefixtures("generous_addresses")
def test_500_fake_leads_from_50_addresses_trip_the_breaker_at_200(
    client: Client, version: DialogueVersion, clock: time_machine.Traveller
) -> None:
    """W-11 (c) at its real numbers and defaults: 200 leads per 10 minutes per site."""
    assert settings.LEAD_BURST_LIMIT == 200
    assert settings.LEAD_BURST_WINDOW_SECONDS == 600
    statuses = burst(client, version, clock, leads=500, ips=50)
    assert set(statuses) == {202}
    assert_breaker_tripped_at(200, leads=500)
