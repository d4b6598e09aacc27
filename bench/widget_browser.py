"""What the browser benchmarks (PF-W2, PF-W3, PF-W4) share: a customer's site, Chromium, a chat.

``HostSite`` serves the demo host pages (the template of dynchat/demohost.py) on 127.0.0.1 under
the name www.acme.test, which Chromium resolves there (``--host-resolver-rules``, beside the flags
of the browser tests), so the page and Dynchat (``WidgetStack`` on 127.0.0.1) are different sites,
as a customer's site and Dynchat are. ``?site=KEY`` embeds the loader for that site; without it the
same page comes without the snippet (PF-W3's baseline).

``seed_chat`` publishes, through Django's services, a dialogue for that site: a greeting, a
question with answer buttons, an e-mail capture and an end. Run it before Chromium starts:
Playwright's sync API keeps an event loop in this thread, where Django refuses ORM calls.
"""

from __future__ import annotations

import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Browser, Frame, FrameLocator, Locator, Page, sync_playwright
from widget_bench import make_site, publish_dialogue, targeting

from dynchat.demohost import serve
from tests.browser import INSTALL_HINT, chromium_path
from tests.e2e.conftest import CHROMIUM_FLAGS

HOST_NAME = "www.acme.test"
FRAME_PATH = "/widget/frame"
CHAT_FLOW: dict[str, Any] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hi! I'm the Acme Cloud assistant.", "next": "ask"},
        "ask": {"type": "question", "text": "What brings you here?", "field": None,
                "answers": [{"id": "demo", "label": "A demo", "value": "demo", "next": "mail"},
                            {"id": "look", "label": "Just looking", "value": "looking",
                             "next": "bye"}]},
        "mail": {"type": "capture", "input": "email", "prompt": "Your work e-mail?",
                 "placeholder": "you@company.com", "field": "email", "skip_if_known": False,
                 "overwrite": False, "next": "bye"},
        "bye": {"type": "end"},
    },
}  # fmt: skip
GREETING = CHAT_FLOW["cards"]["hello"]["text"]


class HostSite:
    """The demo host pages on http://www.acme.test:<port>, in a thread of this process."""

    def __init__(self, dynchat_url: str) -> None:
        self.server = serve(0, f"{dynchat_url}/widget.js", site="", quiet=True)
        self.origin = f"http://{HOST_NAME}:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, site_key: str | None, path: str = "/") -> str:
        """The page at ``path``: with the loader for ``site_key``, or without any when None."""
        query = f"?{urllib.parse.urlencode({'site': site_key})}" if site_key else ""
        return f"{self.origin}{path}{query}"


def seed_chat(origin: str, *, trigger: dict[str, Any]) -> str:
    """A site on ``origin`` (default appearance) with CHAT_FLOW published on every page of it,
    shown when ``trigger`` fires; the site's key."""
    site = make_site(origin=origin, appearance={"bot_name": "Acme"})
    rules = targeting(trigger=trigger, origin=origin)
    publish_dialogue(site, name="Welcome", flow=CHAT_FLOW, targeting=rules)
    return site.key


def check_frame(base_url: str, site_key: str, host: str) -> None:
    """Exit with a clear message unless Dynchat serves the chat frame's document."""
    query = urllib.parse.urlencode({"site": site_key, "host": host})
    try:
        with urllib.request.urlopen(f"{base_url}{FRAME_PATH}?{query}", timeout=10) as answer:
            if answer.status == 200:
                return
            status = str(answer.status)
    except urllib.error.HTTPError as error:
        status = str(error.code)
    sys.exit(f"the chat frame {FRAME_PATH} answered {status}: nothing to measure yet")


@contextmanager
def chromium() -> Iterator[Browser]:
    """The system Chromium, headless, with the browser tests' flags; closed at the end."""
    path = chromium_path()
    if path is None:
        sys.exit(INSTALL_HINT)
    flags = [*CHROMIUM_FLAGS, f"--host-resolver-rules=MAP {HOST_NAME} 127.0.0.1"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=flags)
        try:
            yield browser
        finally:
            browser.close()


# Set before any page script: resolves with the loader's dynchat:ready detail.
READY_SCRIPT = (
    "window.dynchatReady = new Promise(resolve => document.addEventListener("
    "'dynchat:ready', event => resolve(event.detail)));"
)


def loader_ready(page: Page) -> dict[str, Any]:
    """Wait for the loader's ``dynchat:ready``; exit unless it shows a dialogue."""
    detail: dict[str, Any] = page.evaluate("window.dynchatReady")
    if not detail.get("dialogue"):
        sys.exit(f"the loader shows no dialogue on {page.url}: {detail}")
    return detail


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name="Open chat")


def chat_frame(page: Page) -> FrameLocator:
    return page.frame_locator(f"iframe[src*='{FRAME_PATH}']")


def first_message(chat: Frame | FrameLocator) -> Locator:
    """The dialogue's first bot message: a child of the chat's ``role=log`` with its text (not a
    note the frame shows when something failed)."""
    return chat.locator("[role=log] > *", has_text=GREETING).first


def centre(target: Locator) -> tuple[float, float]:
    """The middle of ``target`` on the page, for a raw mouse click that waits for nothing."""
    box = target.bounding_box()
    if box is None:
        sys.exit("the launcher is not on the page")
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
