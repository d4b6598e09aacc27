"""PF-W3: what the loader costs the host page — its load event with and without the snippet.

gunicorn as production runs it (bench/widget_bench.py), a site with a published dialogue that
shows at once, and the demo host page on another origin (bench/widget_browser.py): the same page
with the loader's snippet and, the baseline, without it. Headless Chromium loads them in turn, 20
times each (5 with --quick), after one pair not counted (the browser's own warm-up); the order
alternates in pairs (with, without, without, with, …), each load in a fresh browser context (an
empty HTTP cache, no storage). The figure is the page's load event as PerformanceNavigationTiming
reports it (``loadEventEnd``, from the start of navigation). After each load with the loader the
benchmark waits until the loader did all its work — it drew the launcher for the dialogue, and the
chat frame it then made has started the conversation — so nothing is cut short. Target: the
medians differ by at most 50 ms.

    .venv/bin/python bench/pf_w3_host_cost.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Browser, Response
from stack import say
from widget_bench import WidgetStack
from widget_browser import (
    READY_SCRIPT,
    HostSite,
    check_frame,
    chromium,
    launcher,
    loader_ready,
    seed_chat,
)

TARGET_MS = 50.0
START_PATH = "/api/widget/v1/conversations"
SCRIPT_FETCH = (
    "() => { const [entry] = performance.getEntriesByType('resource')"
    ".filter(e => e.name.endsWith('/widget.js')); return entry.responseEnd - entry.startTime; }"
)
LOAD_EVENT_END = (
    "() => { const [entry] = performance.getEntriesByType('navigation');"
    " return entry && entry.loadEventEnd > 0 ? entry.loadEventEnd : null; }"
)


@dataclass(frozen=True)
class Load:
    load_event_ms: float  # loadEventEnd, from the start of navigation
    ready_ms: float | None = None  # the loader's dynchat:ready (the launcher drawn)
    script_ms: float | None = None  # fetching widget.js, from its request to its last byte


def load_time(browser: Browser, url: str, *, loader: bool) -> Load:
    """One load of ``url`` in a fresh context; with the loader, until it has done all its work."""
    context = browser.new_context()
    try:
        page = context.new_page()
        if not loader:
            page.goto(url)
            return Load(float(page.wait_for_function(LOAD_EVENT_END).json_value()))
        page.add_init_script(READY_SCRIPT)
        page.add_init_script(
            "document.addEventListener('dynchat:ready', () =>"
            " { window.dynchatReadyAt = performance.now(); });"
        )
        with page.expect_response(is_start, timeout=20_000) as started:
            page.goto(url)
            loaded = float(page.wait_for_function(LOAD_EVENT_END).json_value())
            loader_ready(page)
            launcher(page).wait_for(state="visible")
        if started.value.status not in (200, 201):
            sys.exit(f"the chat frame could not start the conversation: {started.value.status}")
        ready = float(page.evaluate("window.dynchatReadyAt"))
        return Load(loaded, ready, float(page.evaluate(SCRIPT_FETCH)))
    finally:
        context.close()


def is_start(response: Response) -> bool:
    """The chat frame starting the conversation: the last of the loader's work on a page."""
    return response.request.method == "POST" and response.url.endswith(START_PATH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 loads of each instead of 20")
    runs = 5 if parser.parse_args().quick else 20
    with WidgetStack(static=True) as stack, HostSite(stack.base_url) as host:
        site_key = seed_chat(host.origin, trigger={"kind": "immediately", "amount": 0})
        stack.serve()
        check_frame(stack.base_url, site_key, host.origin)
        with_loader, without = host.url(site_key), host.url(None)
        said = "with, without, without, with"
        say(f"{runs} loads of each, in fresh contexts, alternating ({said}, …)")
        loads: dict[bool, list[Load]] = {True: [], False: []}
        with chromium() as browser:
            load_time(browser, with_loader, loader=True)  # warm-up, not counted
            load_time(browser, without, loader=False)
            for run in range(2 * runs):
                loader = (run % 4) in (0, 3)
                loads[loader].append(
                    load_time(browser, with_loader if loader else without, loader=loader)
                )
        report(loads[True], loads[False])


def report(with_loader: list[Load], without: list[Load]) -> None:
    rows = (
        ("without the loader (baseline): load event", [x.load_event_ms for x in without]),
        ("with the loader:               load event", [x.load_event_ms for x in with_loader]),
        ("with the loader: widget.js fetched in", [x.script_ms or 0.0 for x in with_loader]),
        ("with the loader: dynchat:ready (launcher)", [x.ready_ms or 0.0 for x in with_loader]),
    )
    for label, values in rows:
        say(
            f"{label:<42} median {statistics.median(values):6.1f} ms "
            f"(min {min(values):.1f}, max {max(values):.1f})"
        )
    difference = statistics.median(rows[1][1]) - statistics.median(rows[0][1])
    verdict = "" if difference <= TARGET_MS else " MISS"
    say(f"PF-W3 {difference:+.1f} ms (target ≤ {TARGET_MS:.0f} ms){verdict}")


if __name__ == "__main__":
    main()
