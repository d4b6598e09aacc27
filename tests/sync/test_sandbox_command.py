"""``python -m sync.sandbox``: the sandbox as its own process, as the demo and benchmarks run it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.slow


def test_the_command_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync.sandbox",
            "--port",
            "0",
            "--leads",
            "500",
            "--companies",
            "50",
            "--activities",
            "2000",
            "--lead-days",
            "365",
            "--activity-days",
            "120",
            "--seed",
            "4",
            "--status-interval",
            "2",
            "--client-id",
            "demo-client",
            "--client-secret",
            "demo-secret",
            "--no-limits",
        ],
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(
            r"Marketo sandbox on (http://127\.0\.0\.1:\d+) \(client id demo-client\)\n", line
        )
        assert match, line
        base = match.group(1)
        token = requests.get(
            base + "/identity/oauth/token",
            timeout=10,
            params={
                "grant_type": "client_credentials",
                "client_id": "demo-client",
                "client_secret": "demo-secret",
            },
        ).json()["access_token"]
        lead = requests.get(
            base + "/rest/v1/lead/500.json",
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert lead["result"][0]["id"] == 500
        counts = requests.get(base + "/_sandbox/counts", timeout=10).json()
        assert counts == {"leads": 500, "companies": 50, "activities": 2000}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)


def test_the_command_documents_its_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sync.sandbox", "--help"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for option in (
        "--leads",
        "--companies",
        "--activities",
        "--lead-days",
        "--activity-days",
        "--seed",
        "--status-interval",
        "--client-id",
        "--client-secret",
        "--no-limits",
        "--daily-quota",
        "--export-quota-mb",
    ):
        assert option in result.stdout
