"""``manage.py run`` and ``manage.py test``: everything from a fresh checkout to a running system.

Both start an embedded PostgreSQL and Redis (data under var/) unless DATABASE_URL / REDIS_URL are
set, and stop everything they started when they end, on Ctrl-C or when a process dies.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path

from dynchat.embedded import (
    EmbeddedError,
    EmbeddedPostgres,
    EmbeddedRedis,
    free_port,
    port_is_free,
    wait_until,
)
from dynchat.keyfile import read_or_create_key, write_private
from dynchat.supervisor import Stopped, Supervisor

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RUNNING_FILE = "run.json"
# What other manage.py commands need to reach a running `manage.py run` (see manage.py).
SHARED_VARIABLES = (
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY_FILE", "SITE_URL", "ALLOWED_HOSTS",
    "MARKETO_BASE_URL", "MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET", "MARKETO_BULK_POLL_SECONDS",
    "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_AUTH_URI", "GOOGLE_TOKEN_URI",
    "GOOGLE_REVOKE_URI", "GOOGLE_CALENDAR_ROOT_URL", "MS_CLIENT_ID", "MS_CLIENT_SECRET",
    "MS_AUTHORITY", "GRAPH_BASE_URL", "MS_CA_BUNDLE", "OAUTHLIB_INSECURE_TRANSPORT",
    "OAUTHLIB_RELAX_TOKEN_SCOPE", "CALENDAR_TOKEN_KEYS_FILE",
)  # fmt: skip


def var_dir() -> Path:
    return Path(os.environ.get("DYNCHAT_VAR_DIR") or ROOT / "var").resolve()


def main(argv: list[str]) -> int:
    command, *args = argv
    return run(args) if command == "run" else test(args)


def start_backing_services(
    supervisor: Supervisor, var: Path, env: MutableMapping[str, str], *, durable: bool
) -> None:
    """Start embedded PostgreSQL and Redis for whichever of DATABASE_URL / REDIS_URL is unset."""

    def say(message: str) -> None:
        supervisor.say("dynchat", message)

    # Test servers write to files: their warnings would only interleave with the test output.
    logs = None if durable else var
    if env.get("DATABASE_URL"):
        say("PostgreSQL: using DATABASE_URL")
    else:
        postgres = EmbeddedPostgres(var / "postgres", port=free_port(), durable=durable)
        postgres.prepare(say)
        child = supervisor.start(
            "postgres",
            postgres.command(),
            user=postgres.user,
            cwd=postgres.root,
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back sessions, then checkpoint
            grace=60,
            log=logs / "postgres.log" if logs else None,
        )
        postgres.wait_ready(child.alive)
        postgres.ensure_database("dynchat")
        env["DATABASE_URL"] = postgres.url("dynchat")
        say(f"PostgreSQL {postgres.port} ready, data in {postgres.data}")
    if env.get("REDIS_URL"):
        say("Redis: using REDIS_URL")
    else:
        redis = EmbeddedRedis(var / "redis", port=free_port(), durable=durable)
        child = supervisor.start(
            "redis",
            redis.command(),
            log=logs / "redis.log" if logs else None,
        )
        redis.wait_ready(child.alive)
        env["REDIS_URL"] = redis.url()
        say(f"Redis {redis.port} ready, data in {redis.root}")


def start_marketo_sandbox(supervisor: Supervisor, var: Path, env: MutableMapping[str, str]) -> None:
    """Unless MARKETO_BASE_URL names a real Marketo, run the bundled sandbox with demo data."""
    if env.get("MARKETO_BASE_URL"):
        supervisor.say("dynchat", "Marketo: using MARKETO_BASE_URL")
        return
    port = free_port()
    secret = read_or_create_key(var / "marketo-sandbox-secret")
    supervisor.start(
        "marketo",
        [PYTHON, "-m", "sync.sandbox", "--port", str(port), "--leads", "10000",
         "--companies", "2000", "--activities", "50000", "--lead-days", "365",
         "--activity-days", "120", "--status-interval", "2",
         # "=": a generated secret may start with "-", which argparse would take for an option.
         "--client-id", "dynchat-demo", f"--client-secret={secret}"],
        env=env,
    )  # fmt: skip
    wait_for_port(port, supervisor, "the Marketo sandbox")
    env.update(
        MARKETO_BASE_URL=f"http://127.0.0.1:{port}",
        MARKETO_CLIENT_ID="dynchat-demo",
        MARKETO_CLIENT_SECRET=secret,
        # The sandbox moves export jobs on every 2 s; a real Marketo once a minute at most.
        MARKETO_BULK_POLL_SECONDS=env.get("MARKETO_BULK_POLL_SECONDS") or "2",
    )


def start_calendar_sandbox(
    supervisor: Supervisor, var: Path, env: MutableMapping[str, str]
) -> None:
    """Unless GOOGLE_CLIENT_ID names a real Google app, run the bundled calendar sandbox (Google
    over http, Microsoft over https with a certificate it mints) and point both providers at it."""
    if env.get("GOOGLE_CLIENT_ID"):
        supervisor.say("dynchat", "Calendars: using GOOGLE_CLIENT_ID / MS_CLIENT_ID")
        return
    port, tls_port = free_port(), free_port()
    while tls_port == port:
        tls_port = free_port()
    state = var / "calendar-sandbox"
    google_secret = read_or_create_key(var / "calendar-sandbox-google-secret")
    ms_secret = read_or_create_key(var / "calendar-sandbox-ms-secret")
    supervisor.start(
        "calendars",
        [PYTHON, "-m", "calendars.sandbox", "--port", str(port), "--tls-port", str(tls_port),
         "--state-dir", str(state), "--google-client-id", "dynchat-demo-google",
         f"--google-client-secret={google_secret}", "--ms-client-id", "dynchat-demo-ms",
         f"--ms-client-secret={ms_secret}"],
        env=env,
    )  # fmt: skip
    wait_for_port(port, supervisor, "the calendar sandbox")
    wait_for_port(tls_port, supervisor, "the calendar sandbox (https)")
    google, microsoft = f"http://127.0.0.1:{port}", f"https://127.0.0.1:{tls_port}"
    env.update(
        GOOGLE_CLIENT_ID="dynchat-demo-google",
        GOOGLE_CLIENT_SECRET=google_secret,
        GOOGLE_AUTH_URI=f"{google}/o/oauth2/v2/auth",
        GOOGLE_TOKEN_URI=f"{google}/token",
        GOOGLE_REVOKE_URI=f"{google}/revoke",
        GOOGLE_CALENDAR_ROOT_URL=f"{google}/",
        MS_CLIENT_ID="dynchat-demo-ms",
        MS_CLIENT_SECRET=ms_secret,
        MS_AUTHORITY=f"{microsoft}/common",
        GRAPH_BASE_URL=f"{microsoft}/v1.0",
        MS_CA_BUNDLE=str(state / "sandbox-ca.pem"),
    )
    # The sandbox's Google endpoints are plain http on loopback, which oauthlib refuses unless
    # told; and Google may grant scopes in another order or with earlier grants.
    env.update({"OAUTHLIB_INSECURE_TRANSPORT": "1", "OAUTHLIB_RELAX_TOKEN_SCOPE": "1"})


def manage(env: MutableMapping[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        env=dict(env),
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )
    return result.stdout or ""


def publish_environment(var: Path, env: MutableMapping[str, str]) -> None:
    """Let `manage.py <anything>` in another terminal reach the servers of this run."""
    shared = {name: env[name] for name in SHARED_VARIABLES if name in env}
    write_private(var / RUNNING_FILE, json.dumps({"pid": os.getpid(), "env": shared}))


def load_running_environment() -> None:
    """If `manage.py run` is running, use its servers for unset variables."""
    path = var_dir() / RUNNING_FILE
    try:
        running = json.loads(path.read_text())
        os.kill(int(running["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return
    for name, value in running["env"].items():
        os.environ.setdefault(name, value)


def wait_for_port(port: int, supervisor: Supervisor, what: str, timeout: float = 60) -> None:
    def listening() -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", port)) == 0

    def all_alive() -> bool:
        return all(child.alive() for child in supervisor.children)

    wait_until(listening, timeout=timeout, what=what, alive=all_alive)


def run(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="manage.py run", description="Set up and run Dynchat with demo data until Ctrl-C."
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    parser.add_argument(
        "--host-port", type=int, default=int(os.environ.get("DEMO_HOST_PORT") or 8001),
        help="port of the demo host page, a stand-in customer site on another origin",
    )  # fmt: skip
    options = parser.parse_args(args)
    for port in (options.port, options.host_port):
        if not port_is_free(port):
            print(f"dynchat: port {port} is in use; choose others with PORT / DEMO_HOST_PORT.")
            return 2

    var = var_dir()
    var.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dynchat.settings", PYTHONUNBUFFERED="1", DYNCHAT_VAR_DIR=str(var)
    )
    env.setdefault("SITE_URL", f"http://localhost:{options.port}")
    env.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
    if not env.get("SECRET_KEY") and not env.get("SECRET_KEY_FILE"):
        read_or_create_key(var / "secret_key")
        env["SECRET_KEY_FILE"] = str(var / "secret_key")
    if not env.get("CALENDAR_TOKEN_KEYS") and not env.get("CALENDAR_TOKEN_KEYS_FILE"):
        env["CALENDAR_TOKEN_KEYS_FILE"] = str(calendar_token_keys(var))
    host_origin = f"http://127.0.0.1:{options.host_port}"

    status = 0
    with Supervisor() as supervisor:
        say = supervisor.say
        try:
            start_backing_services(supervisor, var, env, durable=True)
            publish_environment(var, env)
            start_marketo_sandbox(supervisor, var, env)
            start_calendar_sandbox(supervisor, var, env)
            publish_environment(var, env)
            say("dynchat", "migrating the database")
            manage(env, "migrate", "--no-input", "--verbosity", "1")
            manage(env, "collectstatic", "--no-input", "--verbosity", "0")
            demo = json.loads(
                manage(env, "demo", "--host-origin", host_origin, "--logins-file",
                       str(var / "demo-logins.json"), capture=True).splitlines()[-1]
            )  # fmt: skip
            supervisor.start(
                "web",
                [PYTHON, "-m", "gunicorn", "-c", "python:dynchat.gunicorn_config", "dynchat.wsgi"],
                env={**env, "BIND": "127.0.0.1", "PORT": str(options.port)},
            )
            supervisor.start(
                "worker",
                [PYTHON, "-m", "celery", "-A", "dynchat", "worker", "--loglevel", "INFO",
                 "--concurrency", "2", "--hostname", "worker@%h"],
                env=env,
                grace=30,
            )  # fmt: skip
            supervisor.start(
                "beat",
                [PYTHON, "-m", "celery", "-A", "dynchat", "beat", "--loglevel", "INFO",
                 "--schedule", str(var / "celerybeat-schedule")],
                env=env,
            )  # fmt: skip
            supervisor.start(
                "host",
                [PYTHON, "-m", "dynchat.demohost", "--port", str(options.host_port),
                 "--script", f"{env['SITE_URL']}/widget.js", "--site", demo["site_key"]],
                env=env,
            )  # fmt: skip
            wait_for_port(options.port, supervisor, "the web server")
            wait_for_port(options.host_port, supervisor, "the demo host page")
            print(banner(env, host_origin, demo, var), flush=True)
            reason = supervisor.wait().exit_reason
            status = 1
        except Stopped as stopped:
            reason = f"received {stopped}"
        except (EmbeddedError, subprocess.CalledProcessError) as error:
            reason = f"start-up failed: {error}"
            status = 1
        finally:
            (var / RUNNING_FILE).unlink(missing_ok=True)
        say("dynchat", f"stopping everything ({reason})")
    print("dynchat: stopped; every process it started has exited.", flush=True)
    return status


def banner(env: MutableMapping[str, str], host_origin: str, demo: dict[str, str], var: Path) -> str:
    site_url = env["SITE_URL"]
    marketo = {
        "initial sync started": "the initial sync runs now (Marketo page)",
        "synced before": "synced (Marketo page)",
    }.get(demo.get("marketo", ""), demo.get("marketo", "off"))
    return "\n".join(
        [
            "",
            "  Dynchat is running.",
            f"    Admin:          {site_url}/",
            f"    Marketer login: {demo['marketer_email']}  password: {demo['marketer_password']}",
            f"    Agent login:    {demo['agent_email']}  password: {demo['agent_password']}",
            f"    Demo host page: {host_origin}/  (a customer site on another origin)",
            f"    Marketo:        {env.get('MARKETO_BASE_URL', '-')}  {marketo}",
            f"    Calendars:      {calendars(env, demo)}",
            f"    Data:           {var}  (the next run reuses it)",
            "  Press Ctrl-C to stop everything.",
            "",
        ]
    )


def calendar_token_keys(var: Path) -> Path:
    """The file of keys sealing calendar tokens (one key, "k1"), created on first use."""
    path = var / "calendar_token_keys"
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            write_private(path, f"k1:{secrets.token_urlsafe(32)}\n", exclusive=True)
    return path


def calendars(env: MutableMapping[str, str], demo: dict[str, str]) -> str:
    connected = demo.get("calendars", "")
    if env.get("GOOGLE_CLIENT_ID", "").startswith("dynchat-demo-"):
        google = env.get("GOOGLE_TOKEN_URI", "").removesuffix("/token")
        return f"sandbox (Google {google}, Microsoft {env.get('GRAPH_BASE_URL', '')}): {connected}"
    return "Google and Microsoft (GOOGLE_CLIENT_ID / MS_CLIENT_ID)"


def test(args: list[str]) -> int:
    """ruff, mypy and pytest; with arguments, only pytest with those arguments."""
    var = var_dir() / "test"
    var.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", PYTHONUNBUFFERED="1")
    steps: list[tuple[str, list[str]]] = []
    if not args:
        steps += [
            ("ruff check", [PYTHON, "-m", "ruff", "check", "."]),
            ("ruff format", [PYTHON, "-m", "ruff", "format", "--check", "."]),
            ("mypy", [PYTHON, "-m", "mypy"]),
            ("widget build", [PYTHON, "-m", "widget.build", "--check"]),
        ]
    steps.append(("pytest", [PYTHON, "-m", "pytest", *args]))

    results: list[tuple[str, int, float]] = []
    with Supervisor() as supervisor:
        try:
            start_backing_services(supervisor, var, env, durable=False)
            for name, command in steps:
                supervisor.say("dynchat", f"── {name} ──")
                started = time.monotonic()
                code = subprocess.run(command, env=env, cwd=ROOT).returncode
                results.append((name, code, time.monotonic() - started))
        except Stopped:
            return 130
        except EmbeddedError as error:
            supervisor.say("dynchat", f"could not start the test servers: {error}")
            return 1
    print("\nSummary:")
    for name, code, seconds in results:
        print(f"  {'ok    ' if code == 0 else 'FAILED'}  {name}  ({seconds:.0f} s)")
    failed = [name for name, code, _ in results if code != 0]
    print(f"\n{'FAILED: ' + ', '.join(failed) if failed else 'All checks passed.'}", flush=True)
    return 1 if failed else 0
