"""The chat frame's document: who may embed it, what it may load, and that it starts nothing (W-7).

The browser half of W-7 (a page on another origin is refused the frame; a top-level visit makes no
conversation in a real browser) is tests/e2e/test_frame_embedding.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dialogues.models import Conversation
from dynchat.models import Site, User
from tests.conftest import ALLOWED_ORIGIN, https_client
from tests.widget.api import published
from widget.build import FRAME_BUDGET_GZIP_BYTES, frame_sizes

OTHER_ORIGIN = "http://shop.a.example:8080"


def directives(response: Any) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parsed}


def frame(client: Client, site: Site, **params: str) -> Any:
    return client.get(reverse("widget:frame"), {"site": site.key, **params})


def config_of(response: Any) -> dict[str, Any]:
    text = response.content.decode()
    start = text.index('<script id="dynchat-config" type="application/json">')
    island = text[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(island)  # type: ignore[no-any-return]


@pytest.fixture
def two_origin_site(db: None) -> Site:
    return Site.objects.create(name="Site A", allowed_origins=[ALLOWED_ORIGIN, OTHER_ORIGIN])


def test_only_the_sites_own_origins_may_embed_the_frame(two_origin_site: Site) -> None:
    """W-7: frame-ancestors is exactly the site's origins; nothing else may be loaded or run."""
    response = frame(https_client(), two_origin_site, host=ALLOWED_ORIGIN)
    assert response.status_code == 200
    policy = directives(response)
    assert sorted(policy["frame-ancestors"]) == sorted([ALLOWED_ORIGIN, OTHER_ORIGIN])
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["form-action"] == ["'none'"]
    assert "nonce" not in response["Content-Security-Policy"]  # the admin's policy is replaced
    assert "X-Frame-Options" not in response
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_site_without_origins_may_be_embedded_nowhere(db: None) -> None:
    site = Site.objects.create(name="Nowhere", allowed_origins=[])
    assert directives(frame(Client(), site))["frame-ancestors"] == ["'none'"]


def test_the_frame_sets_no_cookie_and_is_cached_briefly_and_privately(site: Site) -> None:
    client = https_client()
    response = frame(client, site, host=ALLOWED_ORIGIN)
    assert not response.cookies
    assert response["Cache-Control"] == "private, max-age=300"
    again = client.get(
        reverse("widget:frame"),
        {"site": site.key, "host": ALLOWED_ORIGIN},
        headers={"If-None-Match": response["ETag"]},
    )
    assert again.status_code == 304


def test_the_document_has_no_inline_script_or_style(site: Site) -> None:
    html = frame(Client(), site, host=ALLOWED_ORIGIN).content.decode()
    assert "style=" not in html
    assert "<style" not in html
    scripts = html.count("<script")
    assert scripts == 2  # frame.js (src) and the JSON data island
    assert '<script defer src="/static/widget/frame.js">' in html
    assert '<link rel="stylesheet" href="/static/widget/frame.css">' in html


def test_the_frame_knows_the_host_only_when_the_site_allows_it(site: Site) -> None:
    allowed = config_of(frame(Client(), site, host=ALLOWED_ORIGIN))
    assert allowed["host"] == ALLOWED_ORIGIN
    assert allowed["site"] == site.key
    assert allowed["preview"] is False
    assert allowed["api"] == "/api/widget/v1"
    assert allowed["appearance"]["bot_name"] == "Chat"
    for host in ("https://evil.test", "https://a.example.evil.test", "null", "", "x" * 300):
        assert config_of(frame(Client(), site, host=host))["host"] is None, host


def test_an_unknown_site_gets_a_404_page(db: None) -> None:
    response = Client().get(reverse("widget:frame"), {"site": "no-such-site"})
    assert response.status_code == 404
    assert response["X-Frame-Options"] == "DENY"
    assert Client().get(reverse("widget:frame")).status_code == 404


def test_loading_the_frame_creates_no_conversation(site: Site) -> None:
    """W-7 (Typebot #1812): the document itself starts nothing, whoever loads it."""
    published(site)
    for host in (ALLOWED_ORIGIN, ""):
        assert frame(Client(), site, host=host).status_code == 200
    assert not Conversation.objects.exists()


def test_a_marketer_may_preview_the_frame_inside_dynchat(marketer: User, site: Site) -> None:
    client = https_client()
    client.force_login(marketer)
    response = frame(client, site, host=ALLOWED_ORIGIN, preview="1")
    assert directives(response)["frame-ancestors"] == ["'self'"]
    assert config_of(response)["preview"] is True
    assert config_of(response)["host"] is None
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("who", ["anonymous", "agent"])
def test_preview_is_for_marketers_only(who: str, agent: User, site: Site) -> None:
    client = https_client()
    if who == "agent":
        client.force_login(agent)
    response = frame(client, site, host=ALLOWED_ORIGIN, preview="1")
    assert directives(response)["frame-ancestors"] == [ALLOWED_ORIGIN]
    assert config_of(response)["preview"] is False
    assert config_of(response)["host"] == ALLOWED_ORIGIN


def test_the_frame_only_answers_reads(site: Site) -> None:
    response = Client().post(reverse("widget:frame") + f"?site={site.key}")
    assert response.status_code == 405


def test_everything_the_frame_loads_is_within_its_budget() -> None:
    """PF-W2: the document, frame.js and frame.css together, gzipped."""
    sizes = frame_sizes()
    assert set(sizes) == {"document", "frame.js", "frame.css"}
    assert sum(sizes.values()) <= FRAME_BUDGET_GZIP_BYTES
