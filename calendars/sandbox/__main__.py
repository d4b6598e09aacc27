"""python -m calendars.sandbox: run the calendar sandbox until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from calendars.sandbox.sandbox import DEFAULTS, CalendarSandbox


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m calendars.sandbox",
        description="Local stand-ins for Google (OAuth + Calendar v3, plain http) and Microsoft "
        "(Entra ID + Graph, https with a certificate minted at start). Prints the two base URLs "
        "and the CA file once it listens; runs until SIGINT or SIGTERM. Control it under "
        "http://HOST:PORT/_sandbox/ (reset, busy, fault, revoke, auto-consent, issue-tokens, "
        "calls, events).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8020, help="plain http port (0: any free port)")
    p.add_argument("--tls-port", type=int, default=8021, help="https port (0: any free port)")
    p.add_argument("--state-dir", default=None, help="where the certificate files are written")
    for name, default in DEFAULTS.items():
        p.add_argument("--" + name.replace("_", "-"), default=default)
    p.add_argument(
        "--auto-consent", default=None, metavar="EMAIL",
        help="authorize at once as this account instead of showing the consent page",
    )  # fmt: skip
    return p


def main(argv: list[str]) -> int:
    options = parser().parse_args(argv)
    sandbox = CalendarSandbox(
        state_dir=options.state_dir,
        google_client_id=options.google_client_id,
        google_client_secret=options.google_client_secret,
        ms_client_id=options.ms_client_id,
        ms_client_secret=options.ms_client_secret,
    )
    sandbox.start(options.host, options.port, options.tls_port)
    if options.auto_consent:
        sandbox.auto_consent(options.auto_consent)
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(
        f"Calendar sandbox: Google on {sandbox.google_base}, Microsoft on "
        f"{sandbox.microsoft_base} (CA file {sandbox.ca_file})",
        flush=True,
    )
    stop.wait()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
