"""python -m sync.sandbox: run the Marketo sandbox until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType

from sync.sandbox import Dataset, Limits, MarketoSandbox

MIB = 2**20


def utc_datetime(text: str) -> datetime:
    """An ISO datetime; one without an offset is UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parser() -> argparse.ArgumentParser:
    defaults = Dataset()
    limits = Limits()
    p = argparse.ArgumentParser(
        prog="python -m sync.sandbox",
        description="A local Marketo REST and Bulk API server with generated data, Marketo's "
        "limits and error codes. Prints 'Marketo sandbox on URL (client id ID)' once it "
        "listens, and runs until SIGINT or SIGTERM. Control it from another process under "
        "URL/_sandbox/: GET stats, GET counts, POST faults, clear-faults, mutate, "
        "reset-quota, reset-stats, advance-clock.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8010, help="port to listen on (0: any free port)")
    data = p.add_argument_group("data (generated from the seed; any size costs no memory)")
    data.add_argument("--leads", type=int, default=defaults.leads, help="number of leads")
    data.add_argument(
        "--companies", type=int, default=defaults.companies, help="number of companies"
    )
    data.add_argument(
        "--activities", type=int, default=defaults.activities, help="number of activities"
    )
    data.add_argument(
        "--lead-days",
        type=float,
        default=defaults.lead_days,
        help="leads were created over this many days up to the end",
    )
    data.add_argument(
        "--activity-days",
        type=float,
        default=defaults.activity_days,
        help="activities happened over this many days up to the end",
    )
    data.add_argument("--seed", type=int, default=defaults.seed, help="the data set's seed")
    data.add_argument(
        "--end",
        type=utc_datetime,
        default=None,
        help="ISO datetime the data runs up to, UTC unless it has an offset (default: now)",
    )
    api = p.add_argument_group("API")
    api.add_argument("--client-id", default="dynchat-sandbox", help="the API client id")
    api.add_argument("--client-secret", default="sandbox-secret", help="the API client secret")
    api.add_argument("--munchkin-id", default="123-ABC-456", help="the instance's Munchkin id")
    api.add_argument(
        "--status-interval",
        type=float,
        default=60.0,
        help="minimum seconds between two status changes of a bulk export job",
    )
    api.add_argument(
        "--export-dir",
        default=None,
        help="where export files are written (default: a temporary folder)",
    )
    lim = p.add_argument_group("limits")
    lim.add_argument(
        "--no-limits",
        action="store_true",
        help="lift the rate, concurrency, daily and export limits",
    )
    lim.add_argument(
        "--calls-per-window",
        type=int,
        default=limits.calls_per_window,
        help="calls allowed per window (606 beyond)",
    )
    lim.add_argument(
        "--window-seconds", type=float, default=limits.window_seconds, help="the rate window"
    )
    lim.add_argument(
        "--concurrency",
        type=int,
        default=limits.concurrency,
        help="calls allowed in flight at once (615 beyond)",
    )
    lim.add_argument(
        "--daily-quota",
        type=int,
        default=limits.daily_quota,
        help="calls allowed per day, US Central (607 beyond)",
    )
    lim.add_argument(
        "--export-quota-mb",
        type=float,
        default=None,
        help="export MiB allowed per day (1029 beyond; default 500)",
    )
    lim.add_argument(
        "--token-ttl", type=float, default=limits.token_ttl, help="access token lifetime in seconds"
    )
    lim.add_argument(
        "--competing-calls-per-window",
        type=int,
        default=0,
        help="calls per window another integration uses up",
    )
    return p


def limits_from(args: argparse.Namespace) -> Limits:
    export_bytes = (
        int(args.export_quota_mb * MIB) if args.export_quota_mb is not None else 500 * MIB
    )
    if args.no_limits:
        return Limits(
            calls_per_window=None,
            window_seconds=args.window_seconds,
            concurrency=None,
            daily_quota=None,
            export_daily_bytes=None if args.export_quota_mb is None else export_bytes,
            token_ttl=args.token_ttl,
        )
    return Limits(
        calls_per_window=args.calls_per_window,
        window_seconds=args.window_seconds,
        concurrency=args.concurrency,
        daily_quota=args.daily_quota,
        export_daily_bytes=export_bytes,
        token_ttl=args.token_ttl,
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    dataset = Dataset(
        leads=args.leads,
        companies=args.companies,
        activities=args.activities,
        lead_days=args.lead_days,
        activity_days=args.activity_days,
        seed=args.seed,
        end=args.end,
    )
    sandbox = MarketoSandbox(
        dataset,
        limits_from(args),
        status_interval=args.status_interval,
        client_id=args.client_id,
        client_secret=args.client_secret,
        munchkin_id=args.munchkin_id,
        export_dir=args.export_dir,
        competing_calls_per_window=args.competing_calls_per_window,
    )
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    sandbox.start(args.host, args.port)
    print(f"Marketo sandbox on {sandbox.base_url} (client id {args.client_id})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
