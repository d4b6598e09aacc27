"""Helpers for the chat frame's browser tests: a published dialogue on a host page's origin, host
pages on origins of their own (a loopback port each) that embed the frame themselves, and watchers
for what must never happen (script dialogs, CSP violations, page errors)."""

from __future__ import annotations

import html
import json
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import (
    ConsoleMessage,
    Dialog,
    Error,
    Locator,
    Page,
    Request,
    Response,
    expect,
)

from dialogues.models import DialogueVersion, default_targeting
from dialogues.services import create_dialogue, publish
from dynchat.models import Site

VISITOR = "frame-test-visitor-0001"


def publish_flow(site: Site, flow: dict[str, Any], origin: str) -> DialogueVersion:
    """A dialogue with ``flow``, published on every page of ``origin``; its live version."""
    dialogue = create_dialogue(
        site=site,
        name="Journey",
        flow=flow,
        targeting={**default_targeting(), "include": [f"{origin}/*"]},
    )
    return publish(dialogue)


def type_answer(field: Locator, text: str) -> None:
    """Type ``text`` into a field of the chat frame and send it, as a visitor does: click into
    it, type, click Send. The frame is on another origin than the page, and Chromium may drop the
    text sent to it (the field keeps its focus and stays empty, sometimes for every try on that
    page): after three tries the value is set the way a browser's autofill sets it (with an input
    event), so a dropped key never reads as a product failure."""
    field.click()
    for _ in range(3):
        field.fill(text)
        try:
            expect(field).to_have_value(text, timeout=1_000)
            break
        except AssertionError:
            continue
    else:
        field.evaluate(
            "(e, text) => { e.value = text; e.dispatchEvent(new Event('input', {bubbles: 1})); }",
            text,
        )
        expect(field).to_have_value(text)
    field.locator("xpath=ancestor::form").get_by_role("button", name="Send").click()


def press_until(target: Locator, key: str, shown: Locator) -> None:
    """Focus ``target`` and press ``key`` until ``shown`` is visible (three tries): a key sent to
    the cross-origin chat frame may be dropped by Chromium, and the widget's actions are safe to
    ask twice (a booking carries its Idempotency-Key; a control acts once)."""
    for attempt in range(3):
        if attempt and shown.is_visible():
            return
        target.focus()
        target.press(key)
        try:
            expect(shown).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            if not target.is_visible():  # the key was taken: the answer is on its way
                expect(shown).to_be_visible(timeout=20_000)
                return
            if attempt == 2:
                raise


def frame_url(base: str, site: Site, host: str) -> str:
    return f"{base}/widget/frame?{urlencode({'site': site.key, 'host': host})}"


# A host page that embeds the frame itself and speaks the loader's side of widget/README.md.
PROTOCOL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host</title></head>
<body>
<h1>Host page</h1>
<iframe id="chat" title="Chat" src="{src}" width="380" height="600"></iframe>
<script>
  const dynchat = {dynchat};
  const start = {start};
  const chat = document.getElementById("chat");
  window.heard = [];
  window.addEventListener("message", (event) => {{
    if (event.origin !== dynchat || event.source !== chat.contentWindow) return;
    window.heard.push(event.data);
    if (event.data.type === "ready" && start) {{
      chat.contentWindow.postMessage({{dynchat: 1, type: "start", ...start}}, dynchat);
    }}
  }});
</script>
</body></html>
"""


class HostPage:
    """One page on an origin of its own (http://127.0.0.1:<port>/), whose HTML may be changed."""

    def __init__(self) -> None:
        self.body = ""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = owner.body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.origin}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def host_page() -> Iterator[HostPage]:
    page = HostPage()
    try:
        yield page
    finally:
        page.close()


def protocol_page(base: str, src: str, start: dict[str, Any] | None) -> str:
    return PROTOCOL_PAGE.format(
        src=html.escape(src), dynchat=json.dumps(base), start=json.dumps(start)
    )


@dataclass
class Trouble:
    """Everything that must not happen on the page: dialogs, CSP violations, errors."""

    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Trouble:
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return self

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(message.text)

    @property
    def csp_violations(self) -> list[str]:
        return [text for text in self.console if "Content Security Policy" in text]


@dataclass
class Traffic:
    """The widget API's requests and answers as one page saw them, and the live server's threads
    at the moment a test gives up: what a failed wait shows (a request never answered, and what
    the thread serving it was doing)."""

    lines: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Traffic:
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", lambda r: self.lines.append(f"failed {r.url} {r.failure}"))
        return self

    def _request(self, request: Request) -> None:
        if "/api/widget/" in request.url:
            sent = f" {request.post_data[:2000]}" if request.post_data else ""
            self.lines.append(f"→ {request.method} {request.url}{sent}")

    def _response(self, response: Response) -> None:
        if "/api/widget/" in response.url:
            try:
                body = response.text()[:2000]
            except Error as error:  # the page went away meanwhile
                body = f"({error.message})"
            self.lines.append(f"← {response.status} {response.url} {body}")

    def report(self) -> str:
        stacks = [
            f"thread {thread.name}:\n{''.join(traceback.format_stack(frame)[-12:])}"
            for thread in threading.enumerate()
            if thread.ident is not None
            and (frame := sys._current_frames().get(thread.ident)) is not None
            and thread is not threading.current_thread()
        ]
        return "\n".join(["widget API traffic:", *self.lines, "server threads:", *stacks])
