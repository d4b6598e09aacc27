"""PF-S1: the initial Marketo sync of 1,000,000 leads, 100,000 companies and 5,000,000 activities.

Targets (SPEC §3): ≤ 10 minutes, peak RSS of any worker process ≤ 300 MB, and the mirror equal to
Marketo — counts equal the sandbox's, the ids run 1..N without a gap, and a random sample of
leads, companies and activities equal field by field to what Marketo's REST API answers.

The sandbox enforces Marketo's rate limits (100 calls / 20 s, 10 at once); its daily call quota
and export quota are lifted. One Celery worker (prefork, two pool processes) runs the sync.

Baseline, measured in the same run: the database floor — ``COPY`` of the very export files the
sandbox produced straight into unlogged tables of text columns (no API, no casts, no upsert).

    .venv/bin/python bench/pf_s1_initial_sync.py [--quick]
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from marketo_bench import SyncStack, run_benchmark
from marketo_checks import (
    Check,
    Floor,
    check_activities,
    check_companies,
    check_leads,
    copy_floor,
    id_ranges,
    random_ids,
)
from marketo_common import MB, SPOT_CHECK, DataSet, call_summary, figure
from marketo_samplers import where_the_time_went
from stack import say

TARGET_SECONDS = 600
TARGET_RSS_MB = 300
FULL = DataSet(leads=1_000_000, companies=100_000, activities=5_000_000)
QUICK = DataSet(leads=20_000, companies=2_000, activities=100_000)


@dataclass
class Result:
    seconds: float
    completed: bool
    rows: int
    peak_rss_mb: float
    equal: bool
    lines: list[str]


def measure(stack: SyncStack, quick: bool) -> Result:
    from sync.models import RunState

    data = stack.data
    run = stack.start_initial()
    run, trace = stack.wait(run, timeout=300 if quick else 3600, label="PF-S1")
    stack.stop_sampling()
    completed = run.state == RunState.COMPLETED
    finished = run.finished_at or run.updated_at
    seconds = (finished - run.started_at).total_seconds()
    stats = stack.stats()  # before the checks below add their own calls
    lines = [f"data: {data}; sandbox: 100 calls / 20 s, 10 at once, no daily or export quota"]
    if not completed:
        lines.append(f"run {run.id} ended {run.state}/{run.phase}: {run.last_error or 'timeout'}")
        lines += where_the_time_went(trace, stats, stack)
        return Result(seconds, False, 0, 0.0, False, lines)

    truth = stack.counts()
    ranges = id_ranges()
    counts_equal = all(ranges[name] == (truth[name], 1, truth[name]) for name in truth)
    lines.append(
        "counts: "
        + ", ".join(
            f"{name} {ranges[name][0]:,} / {truth[name]:,}"
            + ("" if ranges[name] == (truth[name], 1, truth[name]) else f" ids {ranges[name][1:]}")
            for name in truth
        )
        + (" (mirror / Marketo: equal, ids 1..N)" if counts_equal else " — NOT EQUAL")
    )
    rng = random.Random(seconds)  # noqa: S311 - a sample, not a secret
    api = stack.sandbox_api
    checks: list[Check] = [
        check_leads(api, run, random_ids(truth["leads"], SPOT_CHECK, rng)),
        check_companies(api, run, random_ids(truth["companies"], SPOT_CHECK, rng)),
        check_activities(api, run.started_at - timedelta(days=rng.uniform(1, data.days - 1))),
    ]
    lines.append("spot check against Marketo's REST API: " + "; ".join(map(str, checks)))
    lines += [f"  {mismatch}" for check in checks for mismatch in check.mismatches[:5]]
    equal = counts_equal and all(check.ok for check in checks)

    assert stack.processes is not None
    main_mb = stack.processes.peak("worker", "main") / MB
    pool_mb = stack.processes.peak("worker", "child") / MB
    sandbox_mb = stack.processes.peak("sandbox") / MB
    rows = sum(ranges[name][0] for name in ranges)
    lines.append(call_summary(stats))
    lines.append(
        f"exports: {sum(stats['exports_created'].values())} jobs, "
        f"{stats['bytes_exported'] / MB:,.0f} MB exported, "
        f"{stats['bytes_downloaded'] / MB:,.0f} MB downloaded"
    )
    lines.append(
        f"peak RSS: worker main {main_mb:.0f} MB, pool processes {pool_mb:.0f} MB "
        f"(target ≤ {TARGET_RSS_MB} MB); sandbox {sandbox_mb:.0f} MB"
    )
    lines += where_the_time_went(trace, stats, stack)

    files = sorted(stack.exports.glob("*.csv"))
    floor = copy_floor(stack.env["DATABASE_URL"], files)
    lines += floor_lines(floor, rows, seconds)
    return Result(seconds, completed, rows, max(main_mb, pool_mb), equal, lines)


def floor_lines(floor: Floor, rows: int, seconds: float) -> list[str]:
    floor_rate = floor.rows / floor.seconds if floor.seconds else 0.0
    return [
        f"database floor: COPY of the same {floor.files} export files ({floor.bytes / MB:,.0f} MB, "
        f"{floor.rows:,} rows) into unlogged text tables: {floor.seconds:.1f} s "
        f"({floor_rate:,.0f} rows/s) (baseline)",
        f"initial sync: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s), "
        f"{seconds / floor.seconds if floor.seconds else 0:.1f}× the floor",
    ]


def main() -> None:
    result = run_benchmark("pf-s1", __doc__, FULL, QUICK, measure)
    missed = (
        not result.completed
        or not result.equal
        or result.seconds > TARGET_SECONDS
        or result.peak_rss_mb > TARGET_RSS_MB
    )
    verdict = " MISS" if missed else ""
    say(f"PF-S1 {figure(result.seconds)} s (target ≤ {TARGET_SECONDS} s){verdict}")


if __name__ == "__main__":
    main()
