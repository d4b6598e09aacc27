"""What the widget benchmarks (PF-D1, PF-E1, PF-W2…W4) share: the web server as production runs
it, and wrk.

``WidgetStack`` starts embedded PostgreSQL and Redis as ``manage.py test`` does (data under
var/bench-widget/, not durable), migrates, lets the benchmark seed its data through Django in this
process, then starts gunicorn on 127.0.0.1 with production's configuration
(``dynchat/gunicorn_config.py``: two gthread workers) — DEBUG off, a throwaway SECRET_KEY, rate
limits off (the benchmark is one client address) and the URLconf of bench/bench_urls.py, which
adds ``/bench/trivial`` to the product's. With ``static=True`` it first collects the static files
into its STATIC_ROOT, hashed and compressed as a deploy's ``collectstatic`` does, for the benchmarks
that load the chat frame. Everything stops when the ``with`` block ends, on Ctrl-C
and on failure too (bench/stack.py), and var/bench-widget/ goes with it (its logs stay when
something failed).

Django is set up only once the servers run, so modules that need it are imported inside functions.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack import BenchStack, say

from dynchat.embedded import free_port, wait_until
from dynchat.launcher import PYTHON, ROOT
from dynchat.supervisor import Supervisor

if TYPE_CHECKING:
    from dialogues.models import DialogueVersion
    from dynchat.models import Site

VAR = ROOT / "var" / "bench-widget"
ORIGIN = "https://bench.example"
WORKERS = 2


class WidgetStack(BenchStack):
    """PostgreSQL, Redis, Django in this process (for seeding and checks), gunicorn once asked."""

    def __init__(self, *, static: bool = False) -> None:
        super().__init__(VAR)
        self.static = static  # collect the static files (the chat frame's) before serving
        self.port = 0  # gunicorn's, chosen once PostgreSQL and Redis have theirs
        self.keep_logs = False  # a benchmark sets it when something deserves a look

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        shutil.rmtree(self.var, ignore_errors=True)
        return super().__enter__()

    def start(self, supervisor: Supervisor) -> None:
        started = time.monotonic()
        # Always production's defaults, whatever this shell's environment says.
        drop = ("MARKETO_", "SECRET_KEY", "RATELIMITS", "ALLOWED_HOSTS", "SITE_URL", "STATIC_ROOT")
        env = self.backing_services(supervisor, drop=drop)
        self.port = free_port()
        env.update(
            DJANGO_SETTINGS_MODULE="bench.bench_settings",
            DEBUG="false",
            SECRET_KEY="bench-only-" + secrets.token_urlsafe(32),
            RATELIMIT_ENABLED="false",
            SITE_URL=self.base_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            BIND="127.0.0.1",
            PORT=str(self.port),
            WEB_CONCURRENCY=str(WORKERS),
        )
        self.setup_django(env)
        (self.var / "static").mkdir()  # WhiteNoise's STATIC_ROOT (var/bench-widget/static)
        done = "PostgreSQL, Redis, migrated"
        if self.static:
            from django.core.management import call_command

            call_command("collectstatic", interactive=False, verbosity=0)
            done += ", static files collected"
        say(f"set up in {time.monotonic() - started:.0f} s: {done}")

    def serve(self) -> None:
        """Start gunicorn as production runs it, once the data is seeded; wait until it answers."""
        assert self.supervisor is not None
        from django.db import connections

        connections.close_all()  # the benchmark's own session must not hold locks meanwhile
        web = self.supervisor.start(
            "web",
            [PYTHON, "-m", "gunicorn", "-c", "python:dynchat.gunicorn_config", "dynchat.wsgi"],
            env=self.env, cwd=ROOT, log=self.logs / "web.log",
        )  # fmt: skip

        def answers() -> bool:  # not only listening: a worker has booted Django and served
            try:
                with urllib.request.urlopen(f"{self.base_url}/bench/trivial", timeout=2) as reply:
                    return bool(reply.status == 200)
            except OSError:
                return False

        wait_until(answers, timeout=60, what="gunicorn", alive=web.alive)
        say(f"gunicorn on {self.base_url}: {WORKERS} workers (gthread), production configuration")

    def restarts(self) -> int:
        """Workers gunicorn recycled so far (``max_requests`` in production's configuration)."""
        log = self.logs / "web.log"
        return log.read_text(errors="replace").count("Autorestarting worker") if log.exists() else 0

    def stopped(self, *, failed: bool) -> None:
        if not failed and not self.keep_logs:
            shutil.rmtree(self.var, ignore_errors=True)
            return
        for data in ("postgres", "redis"):
            shutil.rmtree(self.var / data, ignore_errors=True)
        say(f"logs kept in {self.logs.relative_to(ROOT)}")


# Seeding


def make_site(name: str = "bench.example", *, origin: str = ORIGIN, **fields: Any) -> Site:
    """A site whose pages are on ``origin``; ``fields``: other Site fields (appearance, …)."""
    from dynchat.models import Site

    return Site.objects.create(name=name, allowed_origins=[origin], **fields)


def publish_dialogue(
    site: Site, *, name: str, flow: dict[str, Any], targeting: dict[str, Any], priority: int = 1
) -> DialogueVersion:
    """A dialogue created and published through the services, as a marketer would."""
    from dialogues import services

    dialogue = services.create_dialogue(
        site=site, name=name, priority=priority, flow=flow, targeting=targeting
    )
    try:
        return services.publish(dialogue)
    except services.PublishRefused as refused:
        found = "; ".join(f"{p.card or 'targeting'}: {p.message}" for p in refused.problems)
        raise SystemExit(f"“{name}” cannot be published: {found}") from None


def targeting(
    audience: list[dict[str, Any]] | None = None,
    *,
    exclude: list[str] | None = None,
    trigger: dict[str, Any] | None = None,
    origin: str = ORIGIN,
) -> dict[str, Any]:
    return {
        "include": [f"{origin}/*"],
        "exclude": exclude or [],
        "audience": audience or [],
        "trigger": trigger or {"kind": "immediately", "amount": 0},
    }


# wrk


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int  # connect, read, write and timeouts
    failed_status: int  # responses with status ≥ 400
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    restarts: int = 0  # workers recycled during the run

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok_share(self) -> float:
        return 1 - self.failed_status / self.requests if self.requests else 0.0

    def line(self, label: str) -> str:
        return (
            f"{label:<22} {self.per_second:8.0f} req/s  p50 {self.p50_ms:6.1f} ms  "
            f"p90 {self.p90_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms  max {self.max_ms:7.1f} ms  "
            f"({self.requests:,} requests, {self.failed_status:,} status ≥ 400, "
            f"{self.errors:,} socket errors, {self.restarts} worker restarts)"
        )


# Each thread formats every request once, then rotates through them from its own offset;
# done() reports the totals as JSON.
LUA = """
local requests = {%(requests)s}
local headers = {%(headers)s}
local formatted = {}
local next_index = 1
local threads = 0
setup = function(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end
init = function(args)
  for i, path in ipairs(requests) do
    formatted[i] = wrk.format("GET", path, headers)
  end
  next_index = 1 + (offset or 0) %% #formatted
end
request = function()
  local r = formatted[next_index]
  next_index = next_index %% #formatted + 1
  return r
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, '
    .. '"write": %%d, "timeout": %%d, "status": %%d, "p50": %%.0f, "p90": %%.0f, '
    .. '"p99": %%.0f, "max": %%.0f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def ensure_wrk() -> str:
    """The wrk binary; installs the Debian package when running as root, else says how."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("wrk is missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        found = shutil.which("wrk")
        if not found:
            subprocess.run(["apt-get", "update", "-q"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
            found = shutil.which("wrk")
    if not found:
        sys.exit("This benchmark needs wrk: `sudo apt-get install wrk` (Debian/Ubuntu).")
    return found


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def run_wrk(
    stack: WidgetStack,
    paths: list[str],
    *,
    headers: dict[str, str],
    seconds: int,
    connections: int = 200,
    threads: int = 2,
    name: str = "load",
) -> WrkResult:
    """wrk against the stack's server, rotating through ``paths``."""
    script = stack.logs / f"{name}.lua"
    script.write_text(
        LUA
        % {
            "requests": ", ".join(lua_string(p) for p in paths),
            "headers": ", ".join(
                f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()
            ),
        }
    )
    command = [
        ensure_wrk(), "-c", str(connections), "-d", f"{seconds}s", "-t", str(threads),
        "--latency", "-s", str(script), stack.base_url,
    ]  # fmt: skip
    restarts = stack.restarts()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    (stack.logs / f"{name}.wrk.txt").write_text(output)
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


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.5 for the median) of unsorted values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]
