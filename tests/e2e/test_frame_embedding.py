"""Who may show the chat frame, in a real browser (W-7, browser part).

The frame's document says which origins may embed it (frame-ancestors); a page anywhere else gets
a blocked frame, and a visit to the frame's URL itself starts nothing (Typebot #1812).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Request, expect

from dialogues.models import Conversation
from dynchat.models import Role, Site, User
from tests.e2e.chat import (
    VISITOR,
    HostPage,
    Trouble,
    frame_url,
    host_page,
    protocol_page,
    publish_flow,
)

pytestmark = pytest.mark.browser

MARKETER = "maya@example.com"
PASSWORD = "correct horse battery"

FLOW = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hello from Acme", "next": "end"},
        "end": {"type": "end"},
    },
}


@pytest.fixture
def shop() -> Iterator[HostPage]:
    """The customer's site: its origin is the one the site allows."""
    with host_page() as page:
        yield page


@pytest.fixture
def evil() -> Iterator[HostPage]:
    """Somebody else's page, on an origin the site does not allow."""
    with host_page() as page:
        yield page


@pytest.fixture
def site(transactional_db: None, shop: HostPage) -> Site:
    return Site.objects.create(name="Acme", allowed_origins=[shop.origin])


def api_calls(page: Page) -> list[str]:
    calls: list[str] = []

    def seen(request: Request) -> None:
        if "/api/widget/" in request.url:
            calls.append(request.url)

    page.on("request", seen)
    return calls


@pytest.mark.parametrize("claims_to_be_the_shop", [False, True], ids=["own-origin", "as-shop"])
def test_a_page_on_another_origin_cannot_embed_the_frame(
    page: Page,
    live_server: object,
    site: Site,
    shop: HostPage,
    evil: HostPage,
    claims_to_be_the_shop: bool,
) -> None:
    """W-7: frame blocked (CSP violation observed); the frame never runs, nothing is started."""
    base = str(live_server.url)  # type: ignore[attr-defined]
    version = publish_flow(site, FLOW, shop.origin)
    trouble = Trouble().watch(page)
    calls = api_calls(page)
    host = shop.origin if claims_to_be_the_shop else evil.origin
    start = {"visitor": VISITOR, "url": shop.url, "version": version.pk, "open": True}
    evil.body = protocol_page(base, frame_url(base, site, host), start)

    with page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        page.goto(evil.url)
    page.wait_for_load_state("networkidle")

    assert trouble.csp_violations, trouble.console
    chat = page.frame_locator("iframe[title=Chat]")
    expect(chat.locator("#panel")).to_have_count(0)
    assert page.evaluate("window.heard") == []
    assert calls == []
    assert not Conversation.objects.exists()


def test_a_page_on_an_allowed_origin_gets_a_working_frame(
    page: Page, live_server: object, site: Site, shop: HostPage
) -> None:
    """The control for the test above: same page, allowed origin; the frame runs and says so."""
    base = str(live_server.url)  # type: ignore[attr-defined]
    trouble = Trouble().watch(page)
    shop.body = protocol_page(base, frame_url(base, site, shop.origin), None)

    page.goto(shop.url)
    page.wait_for_function("window.heard.length > 0")

    assert page.evaluate("window.heard") == [{"dynchat": 1, "type": "ready"}]
    chat = page.frame_locator("iframe[title=Chat]")
    expect(chat.get_by_role("button", name="Close chat")).to_be_visible()
    expect(chat.get_by_role("log")).to_be_attached()
    assert trouble.csp_violations == []
    assert trouble.errors == []


def test_visiting_the_frame_url_itself_starts_no_conversation(
    page: Page, live_server: object, site: Site, shop: HostPage
) -> None:
    """W-7 (Typebot #1812): a top-level load of the widget URL creates no conversation."""
    base = str(live_server.url)  # type: ignore[attr-defined]
    publish_flow(site, FLOW, shop.origin)
    trouble = Trouble().watch(page)
    calls = api_calls(page)

    page.goto(frame_url(base, site, shop.origin))
    page.wait_for_load_state("networkidle")

    expect(page.get_by_role("button", name="Close chat")).to_be_visible()
    expect(page.get_by_role("log")).to_be_empty()
    assert calls == []
    assert not Conversation.objects.exists()
    assert trouble.errors == []
    assert trouble.csp_violations == []


def test_dynchat_itself_may_embed_the_preview_which_restyles_live(
    page: Page, live_server: object, site: Site
) -> None:
    """The Configuration page's preview: a sample chat, no API call, restyled by its parent."""
    base = str(live_server.url)  # type: ignore[attr-defined]
    User.objects.create_user(MARKETER, PASSWORD, name="Maya", role=Role.MARKETER)
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(MARKETER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login/)"))
    trouble = Trouble().watch(page)
    calls = api_calls(page)

    page.evaluate(
        """src => new Promise(resolve => {
          const preview = document.createElement("iframe");
          preview.title = "Preview";
          preview.src = src;
          addEventListener("message", event => {
            if (event.source === preview.contentWindow && event.data.type === "ready") resolve();
          });
          document.body.append(preview);
        })""",
        frame_url(base, site, "") + "&preview=1",
    )
    chat = page.frame_locator("iframe[title=Preview]")
    expect(chat.locator(".msg.bot").filter(has_text="What brings you here today?")).to_be_visible()
    expect(chat.get_by_role("button", name="Book a demo")).to_be_visible()
    expect(chat.get_by_label("Your e-mail address")).to_be_visible()
    expect(chat.locator(".msg.visitor")).to_have_count(1)

    page.evaluate(
        """() => document.querySelector("iframe[title=Preview]").contentWindow.postMessage(
          {dynchat: 1, type: "appearance", appearance: {primary: "#aa0000", bot_name: "Robo"}},
          location.origin)"""
    )
    expect(chat.locator("#bot-name")).to_have_text("Robo")
    expect(chat.locator(".head")).to_have_css("background-color", "rgb(170, 0, 0)")
    assert calls == []
    assert trouble.errors == []
    assert trouble.csp_violations == []
