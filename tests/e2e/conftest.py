"""Browser tests: the system Chromium driven by Playwright, host pages on another origin.

Dynchat runs on localhost (pytest-django's live server); host pages are served on 127.0.0.1, so
the two are different origins, as a customer's site and Dynchat are. In CI (CI=true) a missing
browser fails the run; elsewhere browser tests are skipped with one line saying how to install it.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from dynchat.demohost import serve
from tests.browser import INSTALL_HINT, chromium_path

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:  # only in CI: elsewhere the tests were not collected (tests/conftest.py)
        pytest.fail(INSTALL_HINT)
    # Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM
    # calls (the tests', the live server's set-up and tear-down) from such a thread unless told
    # the caller knows what it does. Only while the browser is open.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


class HostPages:
    """A stand-in customer website on http://127.0.0.1:<port>: the demo host page of `run`."""

    def __init__(self, dynchat_url: str) -> None:
        self.server = serve(0, f"{dynchat_url}/widget.js", site="", quiet=True)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, site_key: str, path: str = "/") -> str:
        return f"{self.origin}{path}?{urllib.parse.urlencode({'site': site_key})}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host_pages(live_server: object) -> Iterator[HostPages]:
    pages = HostPages(str(live_server.url))  # type: ignore[attr-defined]
    yield pages
    pages.close()
