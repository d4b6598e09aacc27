"""Rate limits fire on the real widget routes, per client address (W-10).

Each route is driven through the URL router with small rates: request N+1 is refused with 429,
``Retry-After`` and the JSON error the widget shows; another address is unaffected; a forged
``X-Forwarded-For`` from an untrusted hop does not buy a fresh bucket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import URLPattern, get_resolver, reverse

from dynchat.models import Site
from dynchat.ratelimit import RATELIMIT_ATTRIBUTE
from tests.conftest import ALLOWED_ORIGIN
from tests.dynchat.test_access import walk
from tests.widget.api import (
    T0,
    capture,
    published,
    raised_limits,
    send,
    start,
    visitor_key,
)

N = 3
GENEROUS = {
    "widget-decide": "1000/h",
    "widget-version": "1000/h",
    "widget-conversation": "1000/m",
    "widget-events": "1000/m",
    "widget-lead": "1000/h",
    "widget-lead-email": "1000/d",
}
Request = Callable[[str, dict[str, Any]], Any]


def assert_limited(response: Any) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"]
    assert error["retry_after"] >= 1


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[time_machine.Traveller]:
    """Frozen at the start of a window: fixed windows never roll over mid-test."""
    with time_machine.travel(T0, tick=False) as clock:
        yield clock


def limits(scope: str) -> dict[str, str]:
    """Every widget scope out of the way but ``scope``, which allows N requests."""
    return raised_limits(
        **{**GENEROUS, scope: f"{N}/h" if scope != "widget-lead-email" else f"{N}/d"}
    )


def drive(request: Request, scope: str) -> None:
    """N requests pass, N+1 is refused; another address and a forged XFF behave as they should."""
    with override_settings(RATELIMITS=limits(scope), TRUSTED_PROXY_COUNT=0):
        statuses = [request("192.0.2.1", {}).status_code for _ in range(N)]
        assert all(200 <= status < 300 for status in statuses), statuses
        assert_limited(request("192.0.2.1", {}))
        forged = {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}
        assert_limited(request("192.0.2.1", forged))
        assert 200 <= request("192.0.2.2", {}).status_code < 300


def test_the_decision_is_limited_per_address(client: Client, site: Site) -> None:
    def request(ip: str, extra: dict[str, Any]) -> Any:
        params = {"site": site.key, "url": f"{ALLOWED_ORIGIN}/pricing"}
        return client.get(
            reverse("widget:decide"),
            params,
            headers={"Origin": ALLOWED_ORIGIN},
            REMOTE_ADDR=ip,
            **extra,
        )

    drive(request, "widget-decide")


def test_loading_a_dialogue_version_is_limited_per_address(client: Client, site: Site) -> None:
    version = published(site)

    def request(ip: str, extra: dict[str, Any]) -> Any:
        url = reverse("widget:version", kwargs={"version_id": version.pk})
        return client.get(url, {"site": site.key}, REMOTE_ADDR=ip, **extra)

    drive(request, "widget-version")


def test_starting_conversations_is_limited_per_address_and_site(client: Client, site: Site) -> None:
    version = published(site)
    visitors = iter(range(100))

    def request(ip: str, extra: dict[str, Any]) -> Any:
        return start(client, version, visitor_key(next(visitors)), ip=ip, **extra)

    drive(request, "widget-conversation")


def test_sending_events_is_limited_per_address_and_site(client: Client, site: Site) -> None:
    version = published(site)
    with override_settings(RATELIMITS=raised_limits(**GENEROUS)):
        started = start(client, version, visitor_key(1))
    sequence = iter(range(1, 100))

    def request(ip: str, extra: dict[str, Any]) -> Any:
        return send(client, started, [{"seq": next(sequence), "type": "opened"}], ip=ip, **extra)

    drive(request, "widget-events")


def test_reloading_a_conversation_counts_as_one_of_its_events(client: Client, site: Site) -> None:
    version = published(site)
    with override_settings(RATELIMITS=raised_limits(**GENEROUS)):
        started = start(client, version, visitor_key(1))
    conversation = started.json()["conversation"]["id"]

    def request(ip: str, extra: dict[str, Any]) -> Any:
        url = reverse("widget:conversation", kwargs={"conversation_id": conversation})
        bearer = {"Authorization": f"Bearer {started.json()['token']}"}
        return client.get(url, headers=bearer, REMOTE_ADDR=ip, **extra)

    drive(request, "widget-events")


def test_leaving_e_mails_is_limited_per_address_and_site(
    client: Client, site: Site, frozen_clock: time_machine.Traveller
) -> None:
    """Each capture is a new visitor's first e-mail: only the per-address lead scope binds."""
    version = published(site)
    with override_settings(RATELIMITS=raised_limits(**GENEROUS)):
        started = iter([start(client, version, visitor_key(n)) for n in range(10)])
    frozen_clock.shift(timedelta(seconds=10))
    emails = iter(range(100))

    def request(ip: str, extra: dict[str, Any]) -> Any:
        email = f"person{next(emails)}@example.com"
        return send(client, next(started), [capture(email)], ip=ip, **extra)

    drive(request, "widget-lead")


def test_one_e_mail_is_limited_per_site_whatever_the_address(
    client: Client, site: Site, frozen_clock: time_machine.Traveller
) -> None:
    version = published(site)
    with override_settings(RATELIMITS=raised_limits(**GENEROUS)):
        started = iter([start(client, version, visitor_key(n)) for n in range(10)])
    frozen_clock.shift(timedelta(seconds=10))
    addresses = iter(range(1, 100))
    with override_settings(RATELIMITS=limits("widget-lead-email")):
        for _ in range(N):
            ip = f"198.51.100.{next(addresses)}"
            assert (
                send(client, next(started), [capture("jane@example.com")], ip=ip).status_code == 202
            )
        ip = f"198.51.100.{next(addresses)}"
        assert_limited(send(client, next(started), [capture("jane@example.com")], ip=ip))
        # Another e-mail from the same address is fine.
        assert send(client, next(started), [capture("joe@example.com")], ip=ip).status_code == 202


def widget_api_patterns() -> list[tuple[str, URLPattern]]:
    found = []
    for namespace, pattern in walk(get_resolver().url_patterns):
        if namespace == "widget:" and str(pattern.pattern).startswith("api/widget/"):
            found.append((f"{namespace}{pattern.name}", pattern))
    return found


def test_every_widget_api_route_has_a_throttle() -> None:
    patterns = widget_api_patterns()
    names = {name for name, _ in patterns}
    assert {
        "widget:decide",
        "widget:version",
        "widget:conversations",
        "widget:conversation",
        "widget:events",
    } <= names
    unthrottled = [
        name for name, p in patterns if not getattr(p.callback, RATELIMIT_ATTRIBUTE, None)
    ]
    assert unthrottled == []
