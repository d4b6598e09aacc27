"""PF-D1: the decision endpoint's throughput under 200 connections, against a trivial view.

gunicorn as production runs it (two gthread workers) on 127.0.0.1; a site with 10 published
dialogues (some for anonymous visitors, some for known leads), 1,000 synced leads with Munchkin
cookies and 1,000 visitors with conversations. ``wrk -c200 -t2 --latency`` first on
/api/widget/v1/decide, rotating anonymous page views (without and with a first-party visitor id)
and known visitors (visitor id + _mkto_trk cookie), then, on the same server in the same run, on
/bench/trivial, a Django JSON view that does nothing: the baseline. Target: decide serves at
least half the trivial view's requests per second, with p99 ≤ 50 ms.

    .venv/bin/python bench/pf_d1_decide.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack import say
from widget_bench import (
    ORIGIN,
    WidgetStack,
    WrkResult,
    make_site,
    publish_dialogue,
    run_wrk,
    targeting,
)

if TYPE_CHECKING:
    from dialogues.models import DialogueVersion
    from dynchat.models import Site

TARGET_RATIO, TARGET_P99_MS = 0.5, 50.0
DIALOGUES, LEADS, VISITORS = 10, 1_000, 1_000
UNKNOWN_IDS = 500  # first-party ids the server has never seen (first chat not yet started)
PAGES = ("", "pricing", "product/tour", "blog/why-chat", "careers/open", "docs/start?ref=ad")
MUNCHKIN_ID = "123-ABC-456"


def dialogue_flow(n: int) -> dict[str, Any]:
    return {
        "version": 1,
        "start": "hello",
        "cards": {
            "hello": {"type": "message", "text": f'Hi {{{{lead.firstName:"there"}}}} ({n})',
                      "next": "ask"},
            "ask": {"type": "question", "text": "What brings you here?", "field": None,
                    "answers": [{"id": "demo", "label": "A demo", "value": "demo", "next": "mail"},
                                {"id": "look", "label": "Just looking", "value": "looking",
                                 "next": "bye"}]},
            "mail": {"type": "capture", "input": "email", "prompt": "Your work e-mail?",
                     "placeholder": "", "field": "email", "skip_if_known": True,
                     "overwrite": False, "next": "goal"},
            "goal": {"type": "goal", "goal": "Demo requested", "next": "bye"},
            "bye": {"type": "end"},
        },
    }  # fmt: skip


def audience(n: int) -> list[dict[str, Any]]:
    """Even dialogues are for anonymous visitors, odd ones for known leads (some by score)."""
    if n % 2 == 0:
        conditions = [{"attribute": "lead.email", "operator": "is_empty", "value": ""}]
    else:
        conditions = [{"attribute": "lead.email", "operator": "is_not_empty", "value": ""}]
        if n % 4 == 1:
            conditions.append(
                {"attribute": "lead.leadScore", "operator": "greater_than", "value": str(10 * n)}
            )
    return [{"match": "all", "conditions": conditions}]


def seed() -> Site:
    from dialogues.models import Conversation, ConversationState, Visitor
    from sync.models import MarketoLead

    site = make_site()
    triggers = [
        {"kind": "immediately", "amount": 0},
        {"kind": "time_on_page", "amount": 10},
        {"kind": "scroll", "amount": 50},
    ]
    versions: list[DialogueVersion] = []
    for n in range(DIALOGUES):
        rules = targeting(
            audience(n),
            exclude=[f"{ORIGIN}/careers/*"] if n % 3 == 0 else [],
            trigger=triggers[n % len(triggers)],
        )
        versions.append(
            publish_dialogue(
                site, name=f"Dialogue {n}", flow=dialogue_flow(n), targeting=rules, priority=n + 1
            )
        )
    MarketoLead.objects.bulk_create(
        MarketoLead(
            id=n + 1,
            email=f"lead{n}@bench.example",
            first_name=f"Lead{n}",
            last_name="Bench",
            company_name=f"Company {n % 50}",
            lead_score=n % 100,
            cookies=[munchkin(n)],
        )
        for n in range(LEADS)
    )
    visitors = Visitor.objects.bulk_create(
        Visitor(site=site, key=visitor_key(n), munchkin_cookie=munchkin(n), lead_id=n + 1)
        for n in range(VISITORS)
    )
    known = versions[1::2]  # the dialogues for known leads
    states = (ConversationState.TRIGGERED, ConversationState.ENGAGED, ConversationState.COMPLETED)
    conversations = []
    for n, visitor in enumerate(visitors):  # a third each triggered, engaged, completed
        version, state = known[n % len(known)], states[n % 3]
        conversations.append(
            Conversation(
                visitor=visitor,
                dialogue_id=version.dialogue_id,
                version=version,
                state=state,
                card="" if state == ConversationState.COMPLETED else "ask",
                last_seq=0 if state == ConversationState.TRIGGERED else 3,
                page_url=f"{ORIGIN}/pricing",
            )
        )
    Conversation.objects.bulk_create(conversations)
    say(
        f"seeded: {DIALOGUES} published dialogues, {LEADS:,} leads with Munchkin cookies, "
        f"{VISITORS:,} visitors with a conversation each"
    )
    return site


def munchkin(n: int) -> str:
    return f"_mch-bench.example-{n}"


def visitor_key(n: int) -> str:
    return f"bench-visitor-{n:06d}"


def decide_paths(site_key: str) -> list[str]:
    """Every other request anonymous (half of those with a first-party id), the rest known."""
    anonymous: list[str] = []
    for n in range(2 * UNKNOWN_IDS):
        params = {"site": site_key, "url": f"{ORIGIN}/{PAGES[n % len(PAGES)]}"}
        if n % 2:
            params["visitor"] = f"bench-new-{n:012d}"
        anonymous.append("/api/widget/v1/decide?" + urlencode(params))
    known = [
        "/api/widget/v1/decide?"
        + urlencode(
            {
                "site": site_key,
                "url": f"{ORIGIN}/{PAGES[n % len(PAGES)]}",
                "visitor": visitor_key(n),
                "mkto": f"id:{MUNCHKIN_ID}&token:{munchkin(n)}",
            }
        )
        for n in range(VISITORS)
    ]
    return [path for pair in zip(anonymous, known, strict=True) for path in pair]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 s per wrk run instead of 20 s")
    seconds = 5 if parser.parse_args().quick else 20
    headers = {"Origin": ORIGIN, "Accept": "application/json"}
    with WidgetStack() as stack:
        site = seed()
        stack.serve()
        paths = decide_paths(site.key)
        warm = max(3, len(paths) // 250)  # long enough to fill every visitor's cached snapshot
        say(f"warming up: decide {warm} s, trivial 3 s; then wrk -c200 -t2 -d{seconds}s on each")
        run_wrk(stack, paths, headers=headers, seconds=warm, connections=20, name="warm-decide")
        run_wrk(stack, ["/bench/trivial"], headers=headers, seconds=3, name="warm-trivial")
        decide = run_wrk(stack, paths, headers=headers, seconds=seconds, name="decide")
        trivial = run_wrk(stack, ["/bench/trivial"], headers=headers, seconds=seconds,
                          name="trivial")  # fmt: skip
        stack.keep_logs = report(decide, trivial)


def report(decide: WrkResult, trivial: WrkResult) -> bool:
    """Print the figures; whether anything failed (then the logs stay)."""
    say(trivial.line("trivial (baseline)"))
    say(decide.line("decide"))
    say(f"decide responses with status 200: {100 * decide.ok_share:.2f} %")
    ratio = decide.per_second / trivial.per_second if trivial.per_second else 0.0
    say(f"ratio decide / trivial: {ratio:.2f}")
    failed = decide.ok_share < 1 or bool(decide.errors or trivial.errors or trivial.failed_status)
    if failed:
        say("warning: some requests failed; see var/bench-widget/logs/")
    missed = ratio < TARGET_RATIO or decide.p99_ms > TARGET_P99_MS
    verdict = " MISS" if missed else ""
    say(
        f"PF-D1 ratio {ratio:.2f} p99 {decide.p99_ms:.0f} ms "
        f"(target ratio ≥ {TARGET_RATIO}, p99 ≤ {TARGET_P99_MS:.0f} ms){verdict}"
    )
    return failed


if __name__ == "__main__":
    main()
