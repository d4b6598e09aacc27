"""Shared by the Marketo sync benchmarks: data sets, the sandbox control API, small helpers."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import requests
from psycopg import sql

if TYPE_CHECKING:
    pass

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLIENT_ID, CLIENT_SECRET = "dynchat-bench", "bench-sandbox-secret"
DATABASE = "bench"
# About ten attributes, as a marketer would choose them: strings, a number, a boolean, a date.
PERSON_ATTRIBUTES = (
    "title", "state", "country", "leadStatus", "leadSource", "productInterest", "customerTier",
    "npsScore", "doNotCall", "trialStartDate",
)  # fmt: skip
COMPANY_ATTRIBUTES = ("industry", "numberOfEmployees")
# Marketo's limits stay on (100 calls / 20 s, 10 at once); the daily call quota and the daily
# export quota are lifted. The sandbox's command line lifts those two only together with the
# rate limits (--no-limits), so they get values no run can reach instead.
NO_DAILY_QUOTA = 1_000_000_000
NO_EXPORT_QUOTA_MB = 1_000_000_000
# Dynchat's own share (settings' defaults); its limiter counts over 21 s (sync/limiter.py).
OUR_CALLS_PER_WINDOW, WINDOW_SECONDS = 80, 21.0
BEAT_SECONDS = 3.0
POLL_SECONDS = 0.25
SAMPLE_SECONDS = 0.5
SPOT_CHECK = 300  # one REST call's worth of records
MB = 1e6
MIB = 2**20


@dataclass(frozen=True)
class DataSet:
    leads: int
    companies: int
    activities: int
    days: float = 120  # leads and activities are spread over this many days up to now

    def sandbox_args(self) -> list[str]:
        return [
            "--leads", str(self.leads), "--companies", str(self.companies),
            "--activities", str(self.activities), "--lead-days", str(self.days),
            "--activity-days", str(self.days),
        ]  # fmt: skip

    def __str__(self) -> str:
        return (
            f"{self.leads:,} leads, {self.companies:,} companies, {self.activities:,} activities "
            f"over {self.days:g} days"
        )


def figure(seconds: float) -> str:
    """Seconds for the closing line: whole ones, a tenth below ten."""
    return f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}"


def database_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def drop_database(url: str, database: str) -> None:
    with psycopg.connect(database_url(url, "postgres"), autocommit=True) as connection:
        name = sql.Identifier(database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def fresh_database(url: str, database: str) -> str:
    """Drop and create ``database`` on the server of ``url``; its URL."""
    drop_database(url, database)
    with psycopg.connect(database_url(url, "postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return database_url(url, database)


class SandboxApi:
    """Marketo's REST API and the sandbox's control calls, from outside Dynchat (checks, setup)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.token = ""

    def control(self, method: str, name: str, body: Any = None) -> Any:
        response = self.session.request(
            method, f"{self.base_url}/_sandbox/{name}", json=body, timeout=120
        )
        response.raise_for_status()
        return response.json()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        if not self.token:
            identity = self.session.get(
                f"{self.base_url}/identity/oauth/token",
                params={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET},
                timeout=30,
            )  # fmt: skip
            identity.raise_for_status()
            self.token = identity.json()["access_token"]
        response = self.session.get(
            self.base_url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=120,
        )
        response.raise_for_status()
        envelope: dict[str, Any] = response.json()
        if not envelope.get("success"):
            raise RuntimeError(f"{path}: {envelope.get('errors')}")
        return envelope


def fmt(seconds: float | None) -> str:
    return "    -  " if seconds is None else f"{seconds:5.1f} s"


def rate_floor(calls: int) -> float:
    """Seconds ``calls`` need at our rate limit: a window's worth at once, then one per window."""
    if calls <= 0:
        return 0.0
    return -(-calls // OUR_CALLS_PER_WINDOW) * WINDOW_SECONDS - WINDOW_SECONDS


def call_summary(stats: Mapping[str, Any]) -> str:
    errors = stats.get("errors_by_code") or {}
    error_text = ", ".join(f"{code} × {n}" for code, n in sorted(errors.items())) or "none"
    return (
        f"API calls: {stats['calls']:,} counted ({stats['requests']:,} requests, "
        f"{stats['identity_calls']} identity); at most {stats['max_calls_in_window']} in 20 s, "
        f"{stats['max_concurrent']} at once; errors: {error_text}"
    )
