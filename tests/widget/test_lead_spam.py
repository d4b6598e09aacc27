"""Bots and bursts at the widget's lead capture: answered 202, never sent to Marketo (W-11).

The outbox is never drained here: "no Marketo call" is asserted on the outbox rows themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings

from dialogues.models import DialogueVersion, SiteAlert, Visitor
from dynchat.models import Site
from sync.models import OutboxKind, OutboxMessage
from tests.widget.api import T0, capture, published, raised_limits, send, start, visitor_key

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
