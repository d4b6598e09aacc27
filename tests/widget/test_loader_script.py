"""widget.js: served with long-lived caching, built from its source, within its size budget."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from widget.build import BUNDLES, OUTPUT, SOURCES, build, gzip_size


def test_the_loader_is_javascript_cached_for_a_day_and_revalidated(client: Client) -> None:
    response = client.get(reverse("widget:loader"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=86400, stale-while-revalidate=604800"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert not response.cookies
    again = client.get(reverse("widget:loader"), headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_the_snippet_url_is_the_loader(client: Client) -> None:
    assert reverse("widget:loader") == "/widget.js"


def test_the_loader_only_serves_reads(client: Client) -> None:
    assert client.post(reverse("widget:loader")).status_code == 405


def test_the_committed_build_matches_the_sources() -> None:
    for bundle in BUNDLES:
        assert (OUTPUT / bundle.output).read_text() == build(bundle), (
            f"static/widget/{bundle.output} is stale: run `.venv/bin/python -m widget.build`"
        )


def test_every_bundle_is_within_its_gzip_budget() -> None:
    for bundle in BUNDLES:
        assert gzip_size(build(bundle)) <= bundle.budget_gzip_bytes


def test_widget_code_never_posts_to_any_origin_or_writes_html() -> None:
    """W-9 static check: postMessage always names its target origin; no innerHTML, no onmessage."""
    sources = sorted(SOURCES.glob("*.js"))
    assert sources, "no widget sources found"
    for path in sources:
        text = path.read_text()
        assert not re.search(r"postMessage\([^)]*['\"]\*['\"]", text), path.name
        assert "onmessage" not in text, path.name
        assert "innerHTML" not in text, path.name
