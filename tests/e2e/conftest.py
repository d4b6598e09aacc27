"""Browser tests: the system Chromium driven by Playwright, host pages on another origin.

Dynchat runs on localhost (pytest-django's live server); host pages are served on 127.0.0.1, so
the two are different origins, as a customer's site and Dynchat are. In CI (CI=true) a missing
browser fails the run; elsewhere browser tests are skipped with one line saying how to install it.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from django.core.signals import request_finished, request_started
from playwright.sync_api import Browser, Page, Playwright, Request, sync_playwright

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
def playwright() -> Iterator[Playwright]:
    """One Playwright for the whole run: its sync API allows one per thread."""
    # Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM
    # calls (the tests', the live server's set-up and tear-down) from such a thread unless told
    # the caller knows what it does. Only while Playwright runs.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield playwright


def launch_chromium(playwright: Playwright, *extra_flags: str) -> Browser:
    path = chromium_path()
    if path is None:  # only in CI: elsewhere the tests were not collected (tests/conftest.py)
        pytest.fail(INSTALL_HINT)
    return playwright.chromium.launch(executable_path=path, args=[*CHROMIUM_FLAGS, *extra_flags])


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


# How long a test's last requests may take to finish before its browser context closes.
SETTLE_SECONDS = 5
QUIET_SECONDS = 0.3


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    # Requests the page (or a frame in it) still has on the server when the test ends would meet
    # the database flush after the test (a deadlock, or rows left for the next test). A request
    # counts as done once answered: the server has finished with the database by then.
    in_flight: set[Request] = set()
    last_seen = [time.monotonic()]

    def started(request: Request) -> None:
        in_flight.add(request)
        last_seen[0] = time.monotonic()

    def ended(request: Request) -> None:
        in_flight.discard(request)
        last_seen[0] = time.monotonic()

    context.on("request", started)
    context.on("response", lambda response: ended(response.request))
    context.on("requestfailed", ended)

    def settle() -> None:
        """Until nothing is in flight and nothing new started for QUIET_SECONDS (a frame's
        keepalive events leave as its page unloads, a moment after the navigation)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline and (
            in_flight or time.monotonic() - last_seen[0] < QUIET_SECONDS
        ):
            page.wait_for_timeout(20)

    yield page
    if not page.is_closed():
        settle()
        # Leaving the page ends the timers of its frames; what they kept for later (a chat
        # frame's events) they send now, and that is answered too before the context closes.
        page.goto("about:blank")
        settle()
    context.close()


class ServerActivity:
    """Requests the live server is handling, seen from Django's request signals."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.last_seen = time.monotonic()

    def started(self, **kwargs: object) -> None:
        with self.lock:
            self.active += 1
            self.last_seen = time.monotonic()

    def finished(self, **kwargs: object) -> None:
        with self.lock:
            self.active = max(0, self.active - 1)
            self.last_seen = time.monotonic()

    def wait_until_quiet(self) -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            with self.lock:
                if self.active == 0 and time.monotonic() - self.last_seen >= QUIET_SECONDS:
                    return
            time.sleep(0.02)


@pytest.fixture(autouse=True)
def quiet_server(request: pytest.FixtureRequest) -> Iterator[None]:
    """The live server has answered everything before the database is flushed.

    A browser may still send a request as its context closes (a frame's keepalive events as the
    page unloads) which the browser side never reports; meeting the flush after the test, it
    deadlocks with it. The server's own count sees every request, whoever sent it.
    """
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")  # torn down (flushed) after this fixture
    activity = ServerActivity()
    request_started.connect(activity.started, dispatch_uid="e2e-quiet-started")
    request_finished.connect(activity.finished, dispatch_uid="e2e-quiet-finished")
    yield
    activity.wait_until_quiet()
    request_started.disconnect(dispatch_uid="e2e-quiet-started")
    request_finished.disconnect(dispatch_uid="e2e-quiet-finished")


class HostPages:
    """A stand-in customer website on http://127.0.0.1:<port>: the demo host page of `run`."""

    def __init__(self, dynchat_url: str, host: str = "127.0.0.1") -> None:
        self.documents: dict[str, str] = {}
        self.server = serve(
            0, f"{dynchat_url}/widget.js", site="", host=host, quiet=True, documents=self.documents
        )
        self.origin = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, site_key: str, path: str = "/") -> str:
        return f"{self.origin}{path}?{urllib.parse.urlencode({'site': site_key})}"

    def add(self, path: str, document: str) -> None:
        """Serve ``document`` at ``path``: HTML, ``{snippet}`` standing for the script tag."""
        self.documents[path] = document

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host_pages(live_server: object) -> Iterator[HostPages]:
    pages = HostPages(str(live_server.url))  # type: ignore[attr-defined]
    yield pages
    pages.close()


@pytest.fixture
def third_party(live_server: object) -> Iterator[HostPages]:
    """Pages on a third origin and site (127.0.0.2), neither the customer's nor Dynchat's."""
    pages = HostPages(str(live_server.url), host="127.0.0.2")  # type: ignore[attr-defined]
    yield pages
    pages.close()
