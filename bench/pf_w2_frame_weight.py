"""PF-W2: the chat frame's weight — everything it loads, each gzip -9, summed (target ≤ 30 KB).

gunicorn as production runs it (bench/widget_bench.py, static files collected: hashed names, the
compressed copies WhiteNoise serves), a site with a published dialogue and the demo host page on
another origin (bench/widget_browser.py). Headless Chromium opens the page, clicks the launcher and
waits for the first bot message. Every response the chat frame received for its document, scripts,
stylesheets, images, fonts and media is compressed with gzip -9 as served (decoded), as PF-W1 does
the loader, and summed; what went over the wire (WhiteNoise's Brotli or gzip, Django's HTML) is
shown beside. The API's JSON answers are listed but not counted: they are the conversation, not
the frame. Baselines in the same run: the loader (/widget.js) as served, and the frame's sources
before the build minifies them (widget/js/frame/*.js joined, frame.css, and the document's template
templates/widget/frame.html), both gzip -9.

    .venv/bin/python bench/pf_w2_frame_weight.py [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Response
from stack import say
from widget_bench import WidgetStack
from widget_browser import (
    READY_SCRIPT,
    HostSite,
    chat_frame,
    check_frame,
    chromium,
    first_message,
    launcher,
    loader_ready,
    seed_chat,
)

from widget.build import BUNDLES, FRAME_BUNDLES, FRAME_DOCUMENT, TEMPLATES, source_of

TARGET_KB = 30.0
WEIGHT = {"document", "script", "stylesheet", "image", "font", "media"}


@dataclass(frozen=True)
class Loaded:
    path: str
    kind: str  # Playwright's resource type
    status: int
    raw: int  # bytes of the decoded body
    gzip9: int
    wire: int  # bytes of the body as transferred (after the server's own compression)
    encoding: str

    def line(self) -> str:
        return (
            f"  {self.kind:<10} {self.status} {self.raw / 1024:7.2f} KB raw "
            f"{self.gzip9 / 1024:6.2f} KB gzip -9 {self.wire / 1024:6.2f} KB on the wire "
            f"({self.encoding or 'identity'})  {self.path}"
        )


def frame_loads(page: Page, host: HostSite, site_key: str) -> tuple[list[Loaded], bool]:
    """Open the chat on the host page; what the frame loaded, and whether a message showed."""
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    page.add_init_script(READY_SCRIPT)
    page.goto(host.url(site_key))
    loader_ready(page)
    launcher(page).click()
    try:
        first_message(chat_frame(page)).wait_for(state="visible", timeout=15_000)
        shown = True
    except PlaywrightError:
        shown = False
    page.wait_for_load_state("networkidle")
    loaded = []
    for response in responses:
        if response.frame == page.main_frame:
            continue
        body = response.body()
        sizes = response.request.sizes()
        url = urllib.parse.urlsplit(response.url)
        loaded.append(
            Loaded(
                path=url.path + (f"?{url.query}" if url.query else ""),
                kind=response.request.resource_type,
                status=response.status,
                raw=len(body),
                gzip9=gzip9(body),
                wire=int(sizes["responseBodySize"]),
                encoding=response.headers.get("content-encoding", ""),
            )
        )
    return loaded, shown


def gzip9(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=9, mtime=0))


def frame_sources() -> dict[str, str]:
    """The chat frame's script and stylesheet before the build minifies them, and its template."""
    found = {
        f"{bundle.source} → {bundle.output}": source_of(bundle)
        for bundle in BUNDLES
        if bundle.output in FRAME_BUNDLES
    }
    found[FRAME_DOCUMENT] = (TEMPLATES / FRAME_DOCUMENT).read_text()
    return found


def loader_gzip(base_url: str) -> int:
    with urllib.request.urlopen(f"{base_url}/widget.js", timeout=10) as answer:
        return gzip9(answer.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the same: it takes seconds")
    parser.parse_args()
    with WidgetStack(static=True) as stack, HostSite(stack.base_url) as host:
        site_key = seed_chat(host.origin, trigger={"kind": "immediately", "amount": 0})
        stack.serve()
        check_frame(stack.base_url, site_key, host.origin)
        with chromium() as browser:
            context = browser.new_context()
            loaded, shown = frame_loads(context.new_page(), host, site_key)
            context.close()
        stack.keep_logs = report(loaded, shown, loader_gzip(stack.base_url))


def report(loaded: list[Loaded], shown: bool, loader: int) -> bool:
    """Print the figures; whether something failed (then the logs stay)."""
    counted = [item for item in loaded if item.kind in WEIGHT]
    say("the chat frame loaded:")
    for item in counted:
        say(item.line())
    say("and asked the API (not counted):")
    for item in loaded:
        if item.kind not in WEIGHT:
            say(item.line())
    source = sum(gzip9(text.encode()) for text in frame_sources().values())
    say(f"baseline: the loader /widget.js as served, gzip -9 {loader / 1024:6.2f} KB")
    names = ", ".join(frame_sources())
    say(f"baseline: the frame's sources unminified ({names}), gzip -9 {source / 1024:6.2f} KB")
    total = sum(item.gzip9 for item in counted) / 1024
    wire = sum(item.wire for item in counted) / 1024
    say(f"the frame: {len(counted)} files, {wire:.2f} KB on the wire as served")
    failed = not shown or any(item.status >= 400 for item in loaded) or not counted
    if not shown:
        say("warning: no bot message showed in the frame within 15 s; the sum may be short")
    verdict = "" if total <= TARGET_KB and not failed else " MISS"
    say(f"PF-W2 {total:.2f} KB (target ≤ {TARGET_KB:.0f} KB){verdict}")
    return failed


if __name__ == "__main__":
    main()
