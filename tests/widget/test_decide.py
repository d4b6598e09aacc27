"""The decide endpoint: CORS only for the site's own origins, stable JSON errors, rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN
from widget.appearance import Appearance


def decide(
    client: Client, site: Site | str, origin: str | None = ALLOWED_ORIGIN, **extra: Any
) -> Any:
    key = site.key if isinstance(site, Site) else site
    headers = {"Origin": origin} if origin else {}
    params = {"site": key, "url": f"{ALLOWED_ORIGIN}/pricing"}
    return client.get(reverse("widget:decide"), params, headers=headers, **extra)


def test_an_allowed_origin_gets_the_decision_and_may_read_it(client: Client, site: Site) -> None:
    response = decide(client, site)
    assert response.status_code == 200
    assert response.json() == {
        "site": site.key,
        "enabled": True,
        "outcome": "none",
        "dialogue": None,
        "consent": False,
        "appearance": Appearance().public(avatar_url=None),
    }
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "origin",
    [
        "https://a.example.evil.test",
        "https://evil.test",
        "null",
        "http://a.example",
        "https://A.EXAMPLE",
        "https://a.example:8443",
    ],
)
def test_any_other_origin_is_refused_and_cannot_read_the_answer(
    client: Client, site: Site, origin: str
) -> None:
    """W-6: only the exact allowed origin may read (the allowed one: the test above)."""
    response = decide(client, site, origin)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response


def test_another_sites_origin_is_refused_on_this_sites_key(client: Client, site: Site) -> None:
    """W-6: site B's origin gets nothing with site A's key."""
    Site.objects.create(name="B", allowed_origins=["https://b.example"])
    assert decide(client, site, "https://b.example").status_code == 403


def test_without_an_origin_header_the_page_url_must_be_allowed(client: Client, site: Site) -> None:
    assert decide(client, site, origin=None).status_code == 200
    response = client.get(reverse("widget:decide"), {"site": site.key, "url": "https://evil.test/"})
    assert response.status_code == 403


def test_a_switched_off_site_says_so(client: Client, site: Site) -> None:
    site.set_chat_enabled(False)
    assert decide(client, site).json()["enabled"] is False


def test_an_unknown_key_is_a_json_404(client: Client, db: None) -> None:
    response = decide(client, "no-such-key")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "site_not_found"


@pytest.mark.parametrize(
    "params",
    [{}, {"site": "k"}, {"url": "https://a.example/"}, {"site": "k", "url": "javascript:alert(1)"},
     {"site": "k" * 65, "url": "https://a.example/"},
     {"site": "k", "url": "https://a.example/" + "x" * 2100}],
)  # fmt: skip
def test_bad_parameters_are_a_json_400_naming_the_field(
    client: Client, db: None, params: dict[str, str]
) -> None:
    response = client.get(reverse("widget:decide"), params)
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid_request"
    assert set(body["fields"]) <= {"site", "url"}


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_other_methods_are_a_json_405(client: Client, db: None, method: str) -> None:
    response = getattr(client, method)(reverse("widget:decide"))
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_anonymous_page_view_costs_no_query_once_the_site_is_cached(
    client: Client,
    site: Site,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    with django_assert_num_queries(2):  # the site and its published dialogues
        decide(client, site)
    with django_assert_num_queries(0):
        decide(client, site)


@override_settings(RATELIMITS={"widget-decide": "3/h"})
def test_one_address_is_limited_and_told_when_to_come_back(client: Client, site: Site) -> None:
    statuses = [decide(client, site, REMOTE_ADDR="192.0.2.1").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = decide(client, site, REMOTE_ADDR="192.0.2.1")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited["Retry-After"]) >= 1
    assert decide(client, site, REMOTE_ADDR="192.0.2.2").status_code == 200


@override_settings(RATELIMITS={"widget-decide": "2/h"})
def test_a_forged_forwarded_for_header_does_not_buy_a_new_allowance(
    client: Client, site: Site
) -> None:
    for n in range(2):
        decide(client, site, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert (
        decide(client, site, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code
        == 429
    )


@override_settings(RATELIMITS={"widget-decide": "2/h"}, TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_address_it_saw_counts(client: Client, site: Site) -> None:
    for _ in range(2):
        decide(client, site, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="spoofed, 192.0.2.7")
    assert (
        decide(client, site, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7").status_code
        == 429
    )
    assert (
        decide(client, site, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.8").status_code
        == 200
    )
