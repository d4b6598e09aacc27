"""The loader on a host page, as the widget's browser tests drive it: a dialogue published for the
host's origin, the loader's DOM events recorded from the first moment, its shadow root read."""

from __future__ import annotations

import copy
from typing import Any, Final

from playwright.sync_api import Locator, Page

from dialogues import services
from dialogues.models import DialogueVersion
from dynchat.models import Site

# Hello (the poke) → a question → an e-mail: a conversation waits for the visitor at each step.
FLOW: Final[dict[str, Any]] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hello! Need a hand?", "next": "ask"},
        "ask": {
            "type": "question",
            "text": "Would you like a demo?",
            "answers": [
                {"id": "yes", "label": "Yes", "value": "yes", "next": "goal"},
                {"id": "no", "label": "No", "value": "no", "next": "end"},
            ],
        },
        "goal": {"type": "goal", "goal": "Wants a demo", "next": "email"},
        "email": {
            "type": "capture",
            "input": "email",
            "prompt": "Your e-mail?",
            "placeholder": "you@example.com",
            "field": "email",
            "skip_if_known": False,
            "overwrite": False,
            "next": "end",
        },
        "end": {"type": "end"},
    },
}
POKE: Final = "Hello! Need a hand?"

# Every DOM event the loader announces, recorded with its detail and the page's clock (once per
# document, however often a test visits).
RECORDER: Final = """
if (!window.dynchatEvents) {
  window.dynchatEvents = [];
  for (const name of ["ready", "triggered", "engaged", "completed", "closed", "email-captured",
                      "meeting-booked"]) {
    document.addEventListener("dynchat:" + name, (event) => window.dynchatEvents.push(
      {name, detail: event.detail, at: performance.now()}));
  }
  window.dynchatReady = new Promise((resolve) =>
    document.addEventListener("dynchat:ready", (event) => resolve(event.detail)));
}
"""


def publish_dialogue(
    site: Site, *, kind: str = "immediately", amount: int = 0, flow: dict[str, Any] | None = None
) -> DialogueVersion:
    """A dialogue on every page of the site's origins, with this trigger; its live version."""
    targeting = {
        "include": [f"{origin}/*" for origin in site.allowed_origins],
        "exclude": [],
        "audience": [],
        "trigger": {"kind": kind, "amount": amount},
    }
    dialogue = services.create_dialogue(
        site=site, name="Welcome", flow=copy.deepcopy(flow or FLOW), targeting=targeting
    )
    return services.publish(dialogue)


def page_errors(page: Page) -> list[str]:
    """The uncaught errors the page will throw from now on (an empty list when all is well)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def visit(page: Page, url: str) -> Any:
    """Open ``url`` with the recorder installed; what the loader announced once Dynchat answered."""
    page.add_init_script(RECORDER)
    page.goto(url)
    return page.evaluate("window.dynchatReady")


def dom_events(page: Page) -> list[str]:
    return [str(name) for name in page.evaluate("window.dynchatEvents.map(e => e.name)")]


def launcher(page: Page) -> Locator:
    return page.locator("[data-dynchat] button.l")


def panel(page: Page) -> Locator:
    return page.locator("[data-dynchat] iframe")


def poke(page: Page) -> Locator:
    return page.locator("[data-dynchat] .p")


def focused(page: Page) -> str:
    """What has the focus inside the widget's shadow root: a tag and class, or ""."""
    return str(
        page.evaluate(
            "(() => { const root = document.querySelector('[data-dynchat]');"
            "  const active = root && root.shadowRoot.activeElement;"
            "  return active ? `${active.tagName.toLowerCase()}.${active.className}` : ''; })()"
        )
    )


def stored(page: Page) -> dict[str, dict[str, str]]:
    """The host page's localStorage and sessionStorage, whole."""
    return dict(page.evaluate("({local: {...localStorage}, session: {...sessionStorage}})"))
