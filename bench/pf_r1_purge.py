"""PF-R1: the 90-day purge under load — the decision endpoint's p99 with and without it running.

The PF-D1 stack and data (gunicorn as production runs it, 10 published dialogues, 1,000 leads and
1,000 visitors with conversations), plus N conversation events (10,000,000 by default) inserted by
PostgreSQL itself, their times spread evenly over the last 135 days, oldest first: a third of them
older than 90 days. ``wrk -c200 -t2`` on /api/widget/v1/decide as in PF-D1, first alone (the
baseline), then while ``dialogues.retention.purge`` runs (in this process, on its own database
connection, as the worker runs it), from just before its start to its end. Target: p99 during
the purge at most twice the baseline's.

    .venv/bin/python bench/pf_r1_purge.py [--quick] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pf_d1_decide import decide_paths, seed
from stack import say
from widget_bench import LUA, ORIGIN, WidgetStack, WrkResult, ensure_wrk, lua_string, run_wrk

TARGET_RATIO = 2.0
SPAN_DAYS = 135  # a third of 135 days is older than 90 days
CHUNK = 1_000_000  # rows per INSERT … SELECT generate_series


def seed_events(rows: int) -> int:
    """``rows`` events on the seeded conversations, one every 135 days / rows; the expired count."""
    from django.db import connection
    from django.utils import timezone

    from dialogues.models import Conversation, ConversationEvent
    from dialogues.retention import cutoff

    table = ConversationEvent._meta.db_table
    conversations = list(Conversation.objects.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    started = time.monotonic()
    with connection.cursor() as cursor:
        for first in range(0, rows, CHUNK):
            last = min(rows, first + CHUNK) - 1
            cursor.execute(
                f"""INSERT INTO {table} (conversation_id, kind, card, value, page_url, occurred_at)
                    SELECT (%s::bigint[])[1 + n %% %s], 'answer', 'ask', 'demo', '',
                           %s - (%s - n) * (%s * interval '1 day' / %s)
                    FROM generate_series(%s, %s) AS n""",  # noqa: S608 (the model's table)
                [conversations, len(conversations), now, rows, SPAN_DAYS, rows, first, last],
            )
            say(f"  {last + 1:,} events inserted ({time.monotonic() - started:.0f} s)")
        cursor.execute(f"VACUUM ANALYZE {table}")
    expired = ConversationEvent.objects.filter(occurred_at__lt=cutoff()).count()
    say(f"seeded {rows:,} events in {time.monotonic() - started:.0f} s, {expired:,} expired")
    return expired


def wrk_during(stack: WidgetStack, paths: list[str], headers: dict[str, str]) -> WrkResult:
    """wrk -c200 -t2 on ``paths`` for as long as the purge runs."""
    from django.db import connections

    from dialogues.retention import purge

    script = stack.logs / "purge-decide.lua"
    script.write_text(
        LUA
        % {
            "requests": ", ".join(lua_string(p) for p in paths),
            "headers": ", ".join(
                f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()
            ),
        }
    )
    command = [ensure_wrk(), "-c", "200", "-d", "3600s", "-t", "2", "--latency", "-s",
               str(script), stack.base_url]  # fmt: skip
    restarts = stack.restarts()
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)  # its connections open
    started = time.monotonic()
    try:
        run = purge()
    finally:
        took = time.monotonic() - started
        wrk.send_signal(signal.SIGINT)  # wrk stops, reports and runs the script's done()
        output, _ = wrk.communicate(timeout=60)
        connections.close_all()
    say(f"purge: {run.outcome} in {took:.1f} s, {run.batches} batches {run.reason}".rstrip())
    (stack.logs / "purge-decide.wrk.txt").write_text(output)
    marker = next(line for line in output.splitlines() if line.startswith("WRK-RESULT "))
    found = json.loads(marker.removeprefix("WRK-RESULT "))
    return WrkResult(
        requests=int(found["requests"]),
        seconds=found["duration_us"] / 1e6,
        errors=sum(int(found[k]) for k in ("connect", "read", "write", "timeout")),
        failed_status=int(found["status"]),
        p50_ms=found["p50"] / 1000,
        p90_ms=found["p90"] / 1000,
        p99_ms=found["p99"] / 1000,
        max_ms=found["max"] / 1000,
        restarts=stack.restarts() - restarts,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="300,000 events, 5 s baseline")
    parser.add_argument("--rows", type=int, default=None, help="events to seed (10,000,000)")
    options = parser.parse_args()
    rows = options.rows or (300_000 if options.quick else 10_000_000)
    seconds = 5 if options.quick else 20
    headers = {"Origin": ORIGIN, "Accept": "application/json"}
    with WidgetStack() as stack:
        site = seed()
        expired = seed_events(rows)
        stack.serve()
        paths = decide_paths(site.key)
        warm = max(3, len(paths) // 250)
        say(f"warming up: decide {warm} s; then wrk -c200 -t2 on decide: {seconds} s alone, "
            "then for as long as the purge runs")  # fmt: skip
        run_wrk(stack, paths, headers=headers, seconds=warm, connections=20, name="warm-decide")
        alone = run_wrk(stack, paths, headers=headers, seconds=seconds, name="decide")
        during = wrk_during(stack, paths, headers)
        stack.keep_logs = report(alone, during, expired)


def report(alone: WrkResult, during: WrkResult, expired: int) -> bool:
    """Print the figures; whether anything failed (then the logs stay)."""
    from dialogues.models import ConversationEvent
    from dialogues.report_models import PurgeRun
    from dialogues.retention import LABEL, cutoff

    run = PurgeRun.objects.first()
    deleted = run.deleted.get(LABEL, 0) if run else 0
    before = run.cutoff if run and run.cutoff else cutoff()
    left = ConversationEvent.objects.filter(occurred_at__lt=before).count()
    say(alone.line("decide (baseline)"))
    say(during.line("decide during purge"))
    say(f"purge: {deleted:,} events deleted ({expired:,} had expired when seeded), {left:,} "
        f"older than its cutoff left, {run.batches if run else 0} batches")  # fmt: skip
    ratio = during.p99_ms / alone.p99_ms if alone.p99_ms else 0.0
    say(f"p99 during purge / baseline: {during.p99_ms:.1f} / {alone.p99_ms:.1f} ms = {ratio:.2f}")
    failed = bool(alone.failed_status or during.failed_status or alone.errors or during.errors)
    failed = failed or left > 0 or deleted < expired
    if failed:
        say("warning: some requests failed or events were left; see var/bench-widget/logs/")
    verdict = " MISS" if ratio > TARGET_RATIO or failed else ""
    say(f"PF-R1 {ratio:.2f}× p99 (target ≤ {TARGET_RATIO:.0f}×){verdict}")
    return failed


if __name__ == "__main__":
    main()
