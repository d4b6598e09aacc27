"""The loader on a customer's page of another origin: the launcher appears where allowed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dynchat.models import Site
from tests.e2e.conftest import HostPages

pytestmark = pytest.mark.browser


def open_host_page(page: Page, host_pages: HostPages, site: Site) -> object:
    """Open the host page and return what the loader announced once it heard from Dynchat."""
    page.add_init_script(
        "window.dynchatReady = new Promise(resolve =>"
        "  document.addEventListener('dynchat:ready', event => resolve(event.detail)));"
    )
    page.goto(host_pages.url(site.key))
    return page.evaluate("window.dynchatReady")


def test_the_launcher_appears_for_an_allowed_origin(page: Page, host_pages: HostPages) -> None:
    site = Site.objects.create(name="Acme", allowed_origins=[host_pages.origin])
    assert open_host_page(page, host_pages, site) == {"enabled": True}
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    # Drawn in a shadow root: the page's `button { all: unset }` does not reach it.
    assert launcher.evaluate("b => b.getRootNode() instanceof ShadowRoot")
    box = launcher.bounding_box()
    assert box is not None
    assert round(box["width"]) == 56


def test_no_launcher_for_an_origin_the_site_does_not_allow(
    page: Page, host_pages: HostPages
) -> None:
    site = Site.objects.create(name="Acme", allowed_origins=["https://www.acme.example"])
    blocked: list[str] = []
    page.on("requestfailed", lambda request: blocked.append(request.url))
    assert open_host_page(page, host_pages, site) == {"enabled": False}
    # Dynchat answered 403 without CORS headers, so the browser would not even hand it over.
    assert any("/api/widget/v1/decide" in url for url in blocked)
    expect(page.get_by_role("button", name="Open chat")).to_have_count(0)
    assert page.locator("[data-dynchat]").count() == 0


def test_no_launcher_when_chat_is_switched_off(page: Page, host_pages: HostPages) -> None:
    site = Site.objects.create(name="Acme", allowed_origins=[host_pages.origin], chat_enabled=False)
    assert open_host_page(page, host_pages, site) == {"enabled": False}
    expect(page.get_by_role("button", name="Open chat")).to_have_count(0)


def test_the_loader_keeps_one_global_and_replays_early_calls(
    page: Page, host_pages: HostPages
) -> None:
    site = Site.objects.create(name="Acme", allowed_origins=[host_pages.origin])
    page.add_init_script(
        "window.Dynchat = window.Dynchat"
        " || function () { (Dynchat.q = Dynchat.q || []).push(arguments) };"
        "window.heard = [];"
        "Dynchat('on', 'ready', detail => window.heard.push(detail));"
    )
    open_host_page(page, host_pages, site)
    page.wait_for_function("window.heard.length > 0")
    assert page.evaluate("typeof window.Dynchat") == "function"
    assert page.evaluate("window.heard") == [{"enabled": True}]


def test_the_loader_sends_no_query_string_and_never_credentials(
    page: Page, host_pages: HostPages
) -> None:
    site = Site.objects.create(name="Acme", allowed_origins=[host_pages.origin])
    # Browsers that still send third-party cookies would send Dynchat's with a credentialed
    # request; this Chromium blocks them anyway, so check what the loader asks fetch for.
    page.add_init_script(
        "window.fetchCalls = []; const realFetch = window.fetch;"
        "window.fetch = (url, init) => {"
        "  window.fetchCalls.push({url: String(url), credentials: init && init.credentials});"
        "  return realFetch(url, init); };"
    )
    with page.expect_request(lambda r: "/api/widget/v1/decide" in r.url) as request:
        page.goto(host_pages.url(site.key) + "&email=someone%40example.com")
    assert "someone" not in request.value.url
    calls = page.evaluate("window.fetchCalls")
    assert [call["credentials"] for call in calls] == ["omit"]
