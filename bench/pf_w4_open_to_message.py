"""PF-W4: click on the launcher → first bot message visible in the chat (target median ≤ 300 ms).

gunicorn as production runs it (bench/widget_bench.py), a site with a published dialogue whose
trigger (ten minutes on the page) has not fired when the visitor clicks, and the demo host page on
another origin (bench/widget_browser.py). So the click does the whole way: the loader makes the
chat frame, which loads, hears ``start``, reads the dialogue's version, starts the conversation
and shows its first message (at once: the site's typing delay comes before later messages only).

Headless Chromium, one browser context for every run — the warm HTTP cache of a visitor who has
been there before, storage cleared after each run so that each run is a new visitor — one run not
counted to warm it, then 20 runs (5 with --quick). Each loads the host page, waits for the
launcher, starts the clock and clicks the launcher's middle with the mouse, and stops the clock
when the first message in the frame's ``role=log`` is visible. Baselines in the same runs: click →
the chat frame's load event (its document, script and stylesheet, before it runs), and a fetch of
/bench/trivial from the host page (a round trip to a Django view doing nothing). Figures: median
and p90.

    .venv/bin/python bench/pf_w4_open_to_message.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import BrowserContext, Frame
from playwright.sync_api import Error as PlaywrightError
from stack import say
from widget_bench import WidgetStack, percentile
from widget_browser import (
    FRAME_PATH,
    READY_SCRIPT,
    HostSite,
    centre,
    check_frame,
    chromium,
    first_message,
    launcher,
    loader_ready,
    seed_chat,
)

TARGET_MS = 300.0
TRIVIAL_ROUND_TRIP = """async url => {
    const began = performance.now();
    await fetch(url, {mode: "no-cors", cache: "no-store", credentials: "omit"});
    return performance.now() - began;
}"""


@dataclass(frozen=True)
class Run:
    message_ms: float  # click → first bot message visible
    frame_load_ms: float  # click → the frame's load event
    trivial_ms: float  # a round trip to /bench/trivial from the host page


def one_run(context: BrowserContext, page_url: str, trivial_url: str) -> Run:
    page = context.new_page()
    try:
        page.add_init_script(READY_SCRIPT)
        page.goto(page_url)
        loader_ready(page)
        point = centre(launcher(page))

        def is_chat(frame: Frame) -> bool:
            return FRAME_PATH in frame.url

        with page.expect_event("framenavigated", predicate=is_chat) as navigated:
            began = time.perf_counter()
            page.mouse.click(*point)
        frame: Frame = navigated.value
        frame.wait_for_load_state("load")
        frame_loaded = time.perf_counter()
        try:
            first_message(frame).wait_for(state="visible", timeout=10_000)
        except PlaywrightError:
            sys.exit("the chat showed no greeting within 10 s of the click: nothing to measure")
        shown = time.perf_counter()
        trivial = float(page.evaluate(TRIVIAL_ROUND_TRIP, trivial_url))
        page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
        return Run(1000 * (shown - began), 1000 * (frame_loaded - began), trivial)
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 runs instead of 20")
    count = 5 if parser.parse_args().quick else 20
    with WidgetStack(static=True) as stack, HostSite(stack.base_url) as host:
        site_key = seed_chat(host.origin, trigger={"kind": "time_on_page", "amount": 600})
        stack.serve()
        check_frame(stack.base_url, site_key, host.origin)
        page_url, trivial_url = host.url(site_key), f"{stack.base_url}/bench/trivial"
        say(f"1 warm-up run, then {count} runs in one browser context (warm HTTP cache)")
        with chromium() as browser:
            context = browser.new_context()
            one_run(context, page_url, trivial_url)
            runs = [one_run(context, page_url, trivial_url) for _ in range(count)]
            context.close()
        report(runs)


def figures(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):6.1f} ms  p90 {percentile(values, 0.9):6.1f} ms  "
        f"(min {min(values):.1f}, max {max(values):.1f})"
    )


def report(runs: list[Run]) -> None:
    rows = (
        ("a fetch of /bench/trivial from the host page (baseline)", [r.trivial_ms for r in runs]),
        ("click → the chat frame's load event (baseline)", [r.frame_load_ms for r in runs]),
        ("click → first bot message visible", [r.message_ms for r in runs]),
    )
    for label, values in rows:
        say(f"{label + ':':<58} {figures(values)}")
    messages = rows[-1][1]
    median, p90 = statistics.median(messages), percentile(messages, 0.9)
    verdict = "" if median <= TARGET_MS else " MISS"
    say(f"PF-W4 median {median:.0f} ms p90 {p90:.0f} ms (target median ≤ {TARGET_MS:.0f} ms)"
        + verdict)  # fmt: skip


if __name__ == "__main__":
    main()
