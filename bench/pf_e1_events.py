"""PF-E1: event ingestion — answer batches from many widgets at once, every one stored.

gunicorn as production runs it (two gthread workers) on 127.0.0.1; a site with a published
dialogue whose question can be answered forever ("again" leads back to it, "done" ends it). N
clients (threads, one keep-alive connection each) start a conversation each
(POST /api/widget/v1/conversations), then post batches of 10 answer events with rising seq to
/api/widget/v1/conversations/<id>/events with their bearer token for 60 s (10 s with --quick).
Baseline in the same run: the same clients GET /bench/trivial, the server's ceiling. Then the
database must hold exactly as many answer events as the server acknowledged with 202.
Target: ≥ 1,000 events/s sustained, none lost.

    .venv/bin/python bench/pf_e1_events.py [--quick] [--clients N]
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack import say
from widget_bench import ORIGIN, WidgetStack, make_site, percentile, publish_dialogue, targeting

if TYPE_CHECKING:
    from dialogues.models import DialogueVersion

TARGET_EVENTS = 1_000
BATCH = 10
FLOW: dict[str, Any] = {
    "version": 1,
    "start": "ask",
    "cards": {
        "ask": {"type": "question", "text": "Once more?", "field": None,
                "answers": [{"id": "again", "label": "Again", "value": "again", "next": "ask"},
                            {"id": "done", "label": "Done", "value": "done", "next": "bye"}]},
        "bye": {"type": "end"},
    },
}  # fmt: skip


@dataclass
class Tally:
    """What one client saw; merged once the clients stop."""

    requests: int = 0  # answered with the status wanted (batches of events, or trivial GETs)
    events_202: int = 0  # events in batches answered 202
    accepted: int = 0  # the server's own count in those answers
    latencies: list[float] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    conversations: list[int] = field(default_factory=list)
    restarts: int = 0  # gunicorn workers recycled during the run

    def timed(
        self, label: str, client: Client, method: str, path: str, wanted: int, **sent: Any
    ) -> bytes | None:
        """One request, counted: its body when answered with ``wanted``, else None."""
        began = time.monotonic()
        try:
            status, body = client.call(method, path, **sent)
        except OSError as error:
            self.errors[type(error).__name__] += 1
            return None
        now = time.monotonic()
        if status != wanted:
            self.errors[f"{label} {status} {body[:120]!r}"] += 1
            return None
        self.requests += 1
        self.latencies.append(now - began)
        self.finished_at.append(now)
        return body

    def figures(self) -> str:
        return (
            f"p50 {1000 * percentile(self.latencies, 0.5):6.1f} ms  "
            f"p99 {1000 * percentile(self.latencies, 0.99):6.1f} ms  "
            f"errors {sum(self.errors.values())}  restarts {self.restarts}"
        )


class Client:
    """One widget: a keep-alive connection to the stack's server, reopened when it closes it."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if body is not None else None
        sent = {"Origin": ORIGIN, "Accept": "application/json", **(headers or {})}
        if payload is not None:
            sent["Content-Type"] = "application/json"
        try:
            return self.exchange(method, path, payload, sent)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # A keep-alive connection the server closed; seq makes a repeated batch harmless.
            return self.exchange(method, path, payload, sent)

    def exchange(
        self, method: str, path: str, payload: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except OSError:
            self.connection.close()  # else it stays mid-request; the next request opens a new one
            raise

    def close(self) -> None:
        self.connection.close()


Work = Callable[[Client, int, float, Tally], None]  # client, its number, deadline, its tally


def answer_forever(
    site_key: str, version: int, client: Client, n: int, deadline: float, tally: Tally
) -> None:
    status, body = client.call(
        "POST", "/api/widget/v1/conversations",
        {"site": site_key, "visitor": f"bench-e1-client-{n:06d}", "version": version,
         "url": f"{ORIGIN}/pricing"},
    )  # fmt: skip
    if status not in (200, 201):
        tally.errors[f"start {status} {body[:120]!r}"] += 1
        return
    started = json.loads(body)
    token, state = started["token"], started["conversation"]
    tally.conversations.append(state["id"])
    path = f"/api/widget/v1/conversations/{state['id']}/events"
    auth = {"Authorization": f"Bearer {token}"}
    seq = state["last_seq"]
    while time.monotonic() < deadline:
        events = [
            {"seq": seq + i, "type": "answer", "card": "ask", "answer": "again"}
            for i in range(1, BATCH + 1)
        ]
        answer = tally.timed(
            "events", client, "POST", path, 202, body={"events": events}, headers=auth
        )
        if answer is not None:
            tally.events_202 += BATCH
            tally.accepted += int(json.loads(answer)["accepted"])
            seq += BATCH


def trivial_forever(client: Client, n: int, deadline: float, tally: Tally) -> None:
    while time.monotonic() < deadline:
        tally.timed("trivial", client, "GET", "/bench/trivial", 200)


def run_clients(
    stack: WidgetStack, clients: int, seconds: float, work: Work
) -> tuple[Tally, float]:
    """Start ``clients`` threads doing ``work`` until ``seconds`` pass; their merged tally."""
    tallies = [Tally() for _ in range(clients)]
    connections = [Client(stack.port) for _ in range(clients)]
    restarts = stack.restarts()
    began = time.monotonic()
    deadline = began + seconds
    threads = [
        threading.Thread(target=work, args=(client, n, deadline, tally), daemon=True)
        for n, (client, tally) in enumerate(zip(connections, tallies, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    for client in connections:
        client.close()
    merged = Tally(restarts=stack.restarts() - restarts)
    for tally in tallies:
        merged.requests += tally.requests
        merged.events_202 += tally.events_202
        merged.accepted += tally.accepted
        merged.latencies += tally.latencies
        merged.finished_at += [t - began for t in tally.finished_at]
        merged.errors.update(tally.errors)
        merged.conversations += tally.conversations
    return merged, elapsed


def seed() -> tuple[str, DialogueVersion]:
    site = make_site()
    version = publish_dialogue(site, name="Answer forever", flow=FLOW, targeting=targeting())
    return site.key, version


def stored_answers(conversations: list[int]) -> int:
    from dialogues.models import ConversationEvent, EventKind

    return ConversationEvent.objects.filter(
        conversation_id__in=conversations, kind=EventKind.ANSWER
    ).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 s of load instead of 60 s")
    parser.add_argument("--clients", type=int, default=32, help="concurrent widgets (32)")
    options = parser.parse_args()
    seconds = 10 if options.quick else 60
    with WidgetStack() as stack:
        site_key, version = seed()
        stack.serve()
        say(f"{options.clients} clients, batches of {BATCH} answers, {seconds} s")
        baseline, base_elapsed = run_clients(
            stack, options.clients, min(seconds, 20), trivial_forever
        )
        answers = functools.partial(answer_forever, site_key, version.pk)
        tally, elapsed = run_clients(stack, options.clients, seconds, answers)
        stored = stored_answers(tally.conversations)
        report(baseline, base_elapsed, tally, elapsed, stored, options.clients)
        stack.keep_logs = bool(tally.errors or baseline.errors)


def report(
    baseline: Tally, base_elapsed: float, tally: Tally, elapsed: float, stored: int, clients: int
) -> None:
    ceiling = baseline.requests / base_elapsed
    say(
        f"trivial GET (baseline)  {ceiling:7.0f} req/s  {baseline.figures()}  "
        f"(the ceiling: {BATCH * ceiling:,.0f} events/s if a batch cost what the trivial view does)"
    )
    rate = tally.events_202 / elapsed
    say(
        f"answer batches          {tally.requests / elapsed:7.0f} batches/s  {tally.figures()}  "
        f"({len(tally.conversations)} of {clients} conversations started)"
    )
    for error, count in tally.errors.most_common(5):
        say(f"  {count} × {error}")
    width = elapsed / 6  # does ingestion hold up as conversations grow?
    slices = Counter(min(5, int(t // width)) for t in tally.finished_at)
    say(
        f"events/s in each sixth of the run ({width:.1f} s): "
        + ", ".join(f"{BATCH * slices[i] / width:.0f}" for i in range(6))
    )
    say(f"events acknowledged with 202: {tally.events_202:,} (the server's accepted: "
        f"{tally.accepted:,}); answer events stored: {stored:,}")  # fmt: skip
    lost = tally.accepted - stored
    all_stored = lost == 0 and tally.accepted == tally.events_202 and tally.events_202 > 0
    say("none lost" if all_stored else f"MISMATCH: {lost:,} acknowledged events not stored")
    verdict = "" if rate >= TARGET_EVENTS and all_stored else " MISS"
    say(f"PF-E1 {rate:.0f} events/s (target ≥ {TARGET_EVENTS:,} events/s, all stored){verdict}")


if __name__ == "__main__":
    main()
