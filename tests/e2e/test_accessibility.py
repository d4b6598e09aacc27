"""The chat is usable by keyboard and assistive technology, on a customer's page of another origin,
through the real loader and chat frame.

axe-core (tests/a11y/axe.py, WCAG 2.0/2.1 A and AA rules) finds no serious or critical violation in
the open chat — bot and visitor bubbles, answer buttons, the e-mail input and its Send button — nor
on the host page with the launcher, on a desktop and in a 375 px wide viewport. From the keyboard:
Tab from the host page reaches the launcher, Enter opens the chat with the focus inside it, answer
buttons are reached with Tab and chosen with Enter or Space, Escape closes the chat and the focus
goes back to the launcher. With ``prefers-reduced-motion: reduce`` nothing in the frame animates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    Frame,
    FrameLocator,
    Locator,
    Page,
    Playwright,
    Response,
    ViewportSize,
    expect,
)

from dynchat.models import Site
from tests.a11y.axe import violations
from tests.e2e.chat import publish_flow
from tests.e2e.conftest import HostPages, launch_chromium

pytestmark = pytest.mark.browser

EMAIL = "ada@example.com"
# Both answers of each question lead on, so a test may pick either.
FLOW: dict[str, Any] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hi! I'm the Acme Cloud assistant.", "next": "why"},
        "why": {"type": "question", "text": "What brings you here?", "field": None, "answers": [
            {"id": "demo", "label": "A demo", "value": "demo", "next": "mail"},
            {"id": "look", "label": "Just looking", "value": "looking", "next": "mail"},
        ]},
        "mail": {"type": "capture", "input": "email", "prompt": "Your work e-mail?",
                 "placeholder": "you@company.com", "field": "email", "next": "more"},
        "more": {"type": "question", "text": "Anything else?", "field": None, "answers": [
            {"id": "yes", "label": "Pricing, please", "value": "pricing", "next": "bye"},
            {"id": "no", "label": "No, thanks", "value": "no", "next": "bye"},
        ]},
        "bye": {"type": "message", "text": "Thanks, we will be in touch.", "next": "end"},
        "end": {"type": "end"},
    },
}  # fmt: skip
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 667}
# A message in the log: its children, less the typing dots (hidden from assistive technology).
MESSAGE = "[role=log] > :not([aria-hidden=true])"
# Until every animation in the document has finished (an infinite one, the typing dots, never
# does: a test waits for a card awaiting the visitor, when none runs).
SETTLED = "() => Promise.all(document.getAnimations().map(animation => animation.finished))"
# The element that has the focus, through the loader's shadow root: its label or its text.
FOCUSED_ON_HOST = """() => {
    let element = document.activeElement;
    while (element && element.shadowRoot && element.shadowRoot.activeElement) {
        element = element.shadowRoot.activeElement;
    }
    return element ? element.getAttribute("aria-label") || element.tagName : null;
}"""


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """The browser tests' Chromium, with cross-site frames in their page's process.

    With each cross-site frame in a process of its own, headless Chromium now and then sends every
    key Playwright presses to the host page instead of the focused chat frame, even after a click
    inside the frame (about one run of this module in four). In one process the keys go where the
    focus is. Origins, CSP and message checks are the same either way.
    """
    browser = launch_chromium(
        playwright, "--disable-site-isolation-trials",
        "--disable-features=IsolateOrigins,site-per-process",
    )  # fmt: skip
    yield browser
    browser.close()


def make_site(host_pages: HostPages, delay_ms: int = 50) -> Site:
    site = Site.objects.create(
        name="Acme",
        allowed_origins=[host_pages.origin],
        appearance={"bot_name": "Acme", "delay_ms": delay_ms},
    )
    publish_flow(site, FLOW, host_pages.origin)
    return site


@pytest.fixture
def site(host_pages: HostPages, settings: Any) -> Site:
    # The lead guard drops e-mails typed within 1.5 s of the start: a test types faster.
    settings.LEAD_GUARD_MIN_SECONDS = 0
    return make_site(host_pages)


def chat(page: Page) -> FrameLocator:
    return page.frame_locator("iframe[title=Chat]")


def chat_frame(page: Page) -> Frame:
    """The chat frame's document, once the loader has made it."""
    chat(page).locator("[role=log]").wait_for(state="attached")
    return next(frame for frame in page.frames if "/widget/frame" in frame.url)


def launcher(page: Page, name: str = "Open chat") -> Locator:
    return page.get_by_role("button", name=name)


def bot_says(page: Page, text: str) -> None:
    expect(chat(page).locator(MESSAGE).filter(has_text=text).last).to_be_visible()


def visitor_said(page: Page, text: str) -> None:
    expect(chat(page).locator(".msg.visitor").last).to_have_text(f"You: {text}")


def tab_to(page: Page, frame: Frame, label: str) -> None:
    """Press Tab until the chat's focused element reads ``label`` (at most 15 times)."""
    for _ in range(15):
        page.keyboard.press("Tab")
        if frame.evaluate("() => document.activeElement.textContent.trim()") == label:
            return
    pytest.fail(f"Tab never reached “{label}” in the chat")


def sends_events(response: Response) -> bool:
    """The chat frame sending a batch of events (opened, closed, answers)."""
    return response.request.method == "POST" and response.url.endswith("/events")


def no_serious_violations(page: Page) -> None:
    """axe finds nothing serious in the chat nor on the host page, once the bubbles have faded in
    (half-way, a bubble's text has too little contrast)."""
    frame = chat_frame(page)
    frame.evaluate(SETTLED)
    assert violations(frame) == []
    assert violations(page) == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "375px"])
def test_the_open_chat_has_no_serious_or_critical_axe_violations(
    page: Page, host_pages: HostPages, site: Site, viewport: ViewportSize
) -> None:
    """SPEC §2.9: usable with a screen reader; axe on each state of the chat and the host page."""
    page.set_viewport_size(viewport)
    page.goto(host_pages.url(site.key))
    launcher(page).click()
    bot_says(page, "What brings you here?")
    expect(chat(page).get_by_role("button", name="A demo")).to_be_visible()
    no_serious_violations(page)  # a bot bubble and the answer buttons

    chat(page).get_by_role("button", name="A demo").click()
    email = chat(page).get_by_label("Your work e-mail?")
    expect(email).to_be_visible()
    no_serious_violations(page)  # a visitor bubble, the e-mail input and Send

    email.fill("not an address")
    email.press("Enter")
    expect(chat(page).get_by_text("Enter a valid e-mail address.")).to_be_visible()
    no_serious_violations(page)  # the input marked invalid, its error

    email.fill(EMAIL)
    email.press("Enter")
    visitor_said(page, EMAIL)
    expect(chat(page).get_by_role("button", name="No, thanks")).to_be_visible()
    no_serious_violations(page)  # after a capture: bubbles of both sides, answer buttons


def test_the_chat_works_with_the_keyboard_alone(
    page: Page, host_pages: HostPages, site: Site
) -> None:
    """SPEC §2.9: usable by keyboard, from the host page's Tab order to the last answer."""
    page.goto(host_pages.url(site.key))
    expect(launcher(page)).to_be_visible()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_ON_HOST) == "Open chat":
            break
    assert page.evaluate(FOCUSED_ON_HOST) == "Open chat"

    page.keyboard.press("Enter")
    frame = chat_frame(page)
    bot_says(page, "What brings you here?")
    expect(launcher(page, "Close chat")).to_have_attribute("aria-expanded", "true")
    assert page.evaluate(FOCUSED_ON_HOST) == "IFRAME"
    frame.wait_for_function("() => document.hasFocus() && document.activeElement !== document.body")

    tab_to(page, frame, "Just looking")
    page.keyboard.press("Enter")
    visitor_said(page, "Just looking")

    email = chat(page).get_by_label("Your work e-mail?")
    expect(email).to_be_focused()
    page.keyboard.type(EMAIL)
    page.keyboard.press("Enter")
    visitor_said(page, EMAIL)

    bot_says(page, "Anything else?")
    tab_to(page, frame, "No, thanks")
    page.keyboard.press("Space")
    visitor_said(page, "No, thanks")
    bot_says(page, "Thanks, we will be in touch.")

    # Escape closes the chat; the frame sends "closed" (waited for: nothing is left in flight).
    with page.expect_response(sends_events):
        page.keyboard.press("Escape")
        expect(chat(page).locator("[role=log]")).to_be_hidden()
        assert page.evaluate(FOCUSED_ON_HOST) == "Open chat"


def test_with_reduced_motion_nothing_in_the_chat_moves(page: Page, host_pages: HostPages) -> None:
    """SPEC §2.9 (WCAG 2.3.3): a visitor who asks for less motion gets none in the chat."""
    # A typing delay long enough that the dots before the second message are there to be seen.
    site = make_site(host_pages, delay_ms=2000)
    page.emulate_media(reduced_motion="reduce")
    page.goto(host_pages.url(site.key))
    with page.expect_response(sends_events):  # "opened": nothing is left in flight at the end
        launcher(page).click()
        bot_says(page, "Hi! I'm the Acme Cloud assistant.")
        frame = chat_frame(page)
        assert frame.evaluate("() => document.getAnimations().length") == 0
        typing = chat(page).locator("[role=log] > [aria-hidden=true]")
        expect(typing).to_be_attached()
        assert frame.evaluate("() => document.getAnimations().length") == 0
