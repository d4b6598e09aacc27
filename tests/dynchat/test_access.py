"""Every view checks its role: the URLconf is walked, so a new view without a check fails here."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dynchat.access import PUBLIC, access_of
from dynchat.models import Role
from dynchat.ratelimit import RATELIMIT_ATTRIBUTE

SAMPLE_VALUES: dict[str, Any] = {"int": 999_999, "str": "x", "slug": "x", "uuid": uuid.uuid4()}


@dataclass(frozen=True)
class Route:
    name: str
    url: str
    callback: Callable[..., Any]

    @property
    def access(self) -> str | frozenset[Role] | None:
        return access_of(self.callback)


def walk(
    patterns: list[URLPattern | URLResolver], namespace: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, inner)
        else:
            yield namespace, entry


def all_routes() -> list[Route]:
    routes = []
    for namespace, pattern in walk(get_resolver().url_patterns):
        assert pattern.name, f"every URL pattern is named; {pattern.pattern} is not"
        name = f"{namespace}{pattern.name}"
        kwargs = {
            key: SAMPLE_VALUES[type(converter).__name__.removesuffix("Converter").lower()]
            for key, converter in pattern.pattern.converters.items()
        }
        routes.append(Route(name, reverse(name, kwargs=kwargs), pattern.callback))
    return routes


ROUTES = all_routes()
PRIVATE = [route for route in ROUTES if route.access != PUBLIC]
MARKETER_ONLY = [
    r for r in PRIVATE if isinstance(r.access, frozenset) and Role.AGENT not in r.access
]


def test_the_urlconf_has_private_and_public_views() -> None:
    assert len(PRIVATE) >= 10
    assert any(route.access == PUBLIC for route in ROUTES)
    assert len(MARKETER_ONLY) >= 5


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_every_view_declares_who_may_reach_it(route: Route) -> None:
    assert route.access is not None, f"{route.name} has neither @public nor a role check"


RATE_LIMITED = [r for r in ROUTES if r.url.startswith("/api/") or r.name == "dynchat:login"]


def test_the_widget_api_and_sign_in_are_found() -> None:
    assert "widget:decide" in {route.name for route in RATE_LIMITED}


@pytest.mark.parametrize("route", RATE_LIMITED, ids=lambda route: route.name)
def test_every_widget_endpoint_and_sign_in_is_rate_limited(route: Route) -> None:
    """W-10: a public endpoint without a throttle fails here."""
    assert getattr(route.callback, RATELIMIT_ATTRIBUTE, None), f"{route.name} has no @ratelimit"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", PRIVATE, ids=lambda route: route.name)
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, route: Route, method: str) -> None:
    response = getattr(client, method)(route.url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dynchat:login"))


@pytest.mark.django_db
@pytest.mark.parametrize("route", PRIVATE, ids=lambda route: route.name)
def test_anonymous_htmx_requests_reload_the_page_to_sign_in(client: Client, route: Route) -> None:
    response = client.get(route.url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("dynchat:login"))


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", MARKETER_ONLY, ids=lambda route: route.name)
def test_agents_are_refused_marketer_pages(agent_client: Client, route: Route, method: str) -> None:
    response = getattr(agent_client, method)(route.url)
    assert response.status_code == 403


@pytest.mark.parametrize("route", PRIVATE, ids=lambda route: route.name)
def test_marketers_reach_every_page(marketer_client: Client, route: Route) -> None:
    response = marketer_client.get(route.url)
    # 404: the sample object does not exist; 405: the view only takes POST. Both are past the
    # access check, which is what this test is about.
    assert response.status_code in {200, 302, 404, 405}
    if response.status_code == 302:
        assert not response["Location"].startswith(reverse("dynchat:login"))


@pytest.mark.parametrize(
    "route", [r for r in PRIVATE if r not in MARKETER_ONLY], ids=lambda route: route.name
)
def test_agents_reach_their_own_pages(agent_client: Client, route: Route) -> None:
    response = agent_client.get(route.url)
    assert response.status_code in {200, 302, 404, 405}
    if response.status_code == 302:
        assert not response["Location"].startswith(reverse("dynchat:login"))


@pytest.mark.django_db
def test_inactive_users_cannot_use_a_session(marketer_client: Client, marketer: Any) -> None:
    marketer.is_active = False
    marketer.save(update_fields=["is_active"])
    response = marketer_client.get(reverse("dialogues:list"))
    assert response.status_code == 302
