"""`python3 manage.py run` end to end: from an empty data directory to a working Dynchat, and back
to nothing running after Ctrl-C. Embedded PostgreSQL and Redis, gunicorn, worker, beat, host."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from dynchat.embedded import free_port
from tests.processes import descendants, wait_gone

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
CLEARED = {
    "DATABASE_URL", "REDIS_URL", "SITE_URL", "SECRET_KEY", "SECRET_KEY_FILE", "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE",
}  # fmt: skip


class Run:
    """A `manage.py run` in the background, its output collected line by line."""

    def __init__(self, var: Path, port: int, host_port: int) -> None:
        env = {key: value for key, value in os.environ.items() if key not in CLEARED}
        env.update(
            DYNCHAT_VAR_DIR=str(var),
            PORT=str(port),
            DEMO_HOST_PORT=str(host_port),
            HEARTBEAT_SECONDS="1",
        )
        self.port, self.host_port = port, host_port
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "run"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.process.poll() is not None:
                raise AssertionError(f"run exited before {text!r}:\n{self.output[-5000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output[-5000:]}")
            time.sleep(0.2)

    def login(self, field: str) -> tuple[str, str]:
        match = re.search(rf"{field} login:\s+(\S+)\s+password: (\S+)", self.output)
        assert match, self.output
        return match.group(1), match.group(2)

    def stop(
        self, signum: int = signal.SIGINT, timeout: float = 120
    ) -> tuple[int, list[psutil.Process]]:
        started = descendants(self.process.pid)
        self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        return code, wait_gone(started, timeout=5)


@pytest.fixture
def var() -> Iterator[Path]:
    # Under the checkout, not /tmp: as root PostgreSQL runs as another user, who must reach it.
    base = settings.BASE_DIR / "var" / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def fetch(
    url: str, opener: urllib.request.OpenerDirector | None = None, **headers: str
) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    with (opener or urllib.request.build_opener()).open(request, timeout=10) as response:
        return response.status, response.read().decode()


def sign_in(run: Run, email: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"http://localhost:{run.port}/login/"
    fetch(login, opener)
    token = next(cookie.value for cookie in jar if cookie.name.endswith("csrftoken"))
    data = urllib.parse.urlencode(
        {"username": email, "password": password, "csrfmiddlewaretoken": token}
    )
    with opener.open(login, data.encode(), timeout=10) as response:
        assert response.status == 200
        assert not response.url.endswith("/login/"), "signing in failed"
    return opener


def worker_status(run: Run, opener: urllib.request.OpenerDirector) -> str:
    return fetch(f"http://localhost:{run.port}/status/worker/", opener)[1]


def test_run_sets_up_everything_then_stops_everything(var: Path) -> None:
    run = Run(var, free_port(), free_port())
    try:
        run.wait_for("Dynchat is running.", timeout=300)
        running_since = time.monotonic()
        assert "creating a PostgreSQL cluster" in run.output

        status, page = fetch(f"http://127.0.0.1:{run.host_port}/")
        site_key = re.search(r'data-site="([^"]+)"', page)
        assert status == 200
        assert site_key
        assert f'src="http://localhost:{run.port}/widget.js"' in page
        assert fetch(f"http://localhost:{run.port}/widget.js")[0] == 200
        with urllib.request.urlopen(f"http://localhost:{run.port}/login/", timeout=10) as login:
            # D-2: the real web server names no software version.
            assert not re.search(r"\d", login.headers.get("Server", ""))
            assert login.headers.get("X-Powered-By") is None
        query = urllib.parse.urlencode(
            {"site": site_key.group(1), "url": f"http://127.0.0.1:{run.host_port}/"}
        )
        _, decision = fetch(
            f"http://localhost:{run.port}/api/widget/v1/decide?{query}",
            Origin=f"http://127.0.0.1:{run.host_port}",
        )
        assert json.loads(decision)["enabled"] is True

        opener = sign_in(run, *run.login("Marketer"))
        deadline = time.monotonic() + 60
        while "Background jobs running" not in worker_status(run, opener):
            assert time.monotonic() < deadline, "no worker ever recorded a heartbeat"
            time.sleep(0.5)
        # The demo's initial Marketo sync, from the bundled sandbox, is done within a minute.
        assert "Marketo:        http://127.0.0.1:" in run.output
        marketo = f"http://localhost:{run.port}/marketo/"
        while "Synced from Marketo" not in fetch(marketo, opener)[1]:
            in_a_minute = time.monotonic() - running_since < 60
            assert in_a_minute, "the demo's initial Marketo sync did not end within a minute"
            time.sleep(1)
        assert "10,000" in fetch(marketo, opener)[1]
        # The worker reports in when it starts; beat's schedule keeps it coming.
        run.wait_for("Sending due task heartbeat (dynchat.record_heartbeat)", timeout=30)
        sign_in(run, *run.login("Agent"))
    finally:
        code, left = run.stop(signal.SIGINT)
    assert code == 0, run.output[-3000:]
    assert left == []
    assert "every process it started has exited" in run.output

    again = Run(var, free_port(), free_port())
    try:
        again.wait_for("Dynchat is running.", timeout=300)
        assert "creating a PostgreSQL cluster" not in again.output
        _, page = fetch(f"http://127.0.0.1:{again.host_port}/")
        assert f'data-site="{site_key.group(1)}"' in page, "a second run reuses the data"
        assert again.login("Marketer") == run.login("Marketer")
    finally:
        code, left = again.stop(signal.SIGTERM)
    assert code == 0
    assert left == []


def test_a_busy_port_is_reported_before_anything_starts(var: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = Run(var, port, free_port())
        assert run.process.wait(timeout=60) == 2
    assert f"port {port} is in use" in run.output
    assert not (var / "postgres").exists()
