"""Demo data of the calendars: two agents with sandbox calendars, so booking works at once.

`manage.py run` starts the calendar sandbox and points Dynchat's Google and Microsoft settings at
it. Here the demo agent (Alex Agent, Google Calendar) and a second agent (Sam Rivera, Outlook) get
calendars granted by the sandbox — as if each had clicked "Allow" — with a lunch hour and a weekly
team meeting already in them. Against real providers nothing happens: agents connect themselves.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from calendars.crypto import newest_version
from calendars.models import Provider
from calendars.providers.base import Grant, TokenSet
from calendars.services import store_connection
from dynchat.models import Role, User

logger = logging.getLogger("calendars")

DEMO_AGENTS = (
    # email, name, time zone, provider, the calendar account
    ("agent@demo.dynchat.test", "Alex Agent", "America/New_York", Provider.GOOGLE,
     "alex.agent@acme.example"),
    ("sam@demo.dynchat.test", "Sam Rivera", "Europe/London", Provider.MICROSOFT,
     "sam.rivera@acme.example"),
)  # fmt: skip
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def sandbox_control_url() -> str | None:
    """The calendar sandbox's control API, when Google's endpoints point at a local sandbox."""
    parts = urlsplit(settings.GOOGLE_TOKEN_URI)
    if parts.hostname not in LOCAL_HOSTS:
        return None
    return f"{parts.scheme}://{parts.netloc}/_sandbox"


def load_demo() -> dict[str, str]:
    """Connect the demo agents' sandbox calendars (again: each run gets fresh grants); what was
    done, for the banner. Never fails the run: without the sandbox or a key it says why."""
    control = sandbox_control_url()
    if control is None:
        return {"calendars": "agents connect their own calendars"}
    try:
        newest_version()
    except ImproperlyConfigured as error:
        logger.warning("demo: calendars not connected: %s", error)
        return {"calendars": f"not connected: {error}"}
    connected = []
    for email, name, zone, provider, account in DEMO_AGENTS:
        agent = User.objects.filter(email__iexact=email).first()
        if agent is None:
            agent = User.objects.create_user(email, name=name, role=Role.AGENT, time_zone=zone)
        try:
            _connect(control, agent, provider, account, zone)
        except requests.RequestException as error:
            logger.warning("demo: the calendar sandbox did not answer: %s", error)
            return {"calendars": f"sandbox unreachable: {error}"}
        connected.append(f"{name} ({Provider(provider).label})")
    return {"calendars": ", ".join(connected)}


def _connect(control: str, agent: User, provider: str, account: str, zone: str) -> None:
    """Have the sandbox grant the agent's calendar (fresh tokens each run) and fill it a bit."""
    timeout = settings.CALENDAR_TIMEOUT_SECONDS
    answer = requests.post(
        f"{control}/issue-tokens", json={"provider": provider, "email": account}, timeout=timeout
    )
    answer.raise_for_status()
    tokens = answer.json()
    requests.post(
        f"{control}/busy", json={"email": account, "busy": _busy_week(zone)}, timeout=timeout
    ).raise_for_status()
    grant = Grant(
        TokenSet(
            tokens["access_token"],
            tokens["refresh_token"],
            timezone.now() + timedelta(seconds=int(tokens["expires_in"])),
        ),
        account,
    )
    store_connection(agent, provider, grant)


def _busy_week(zone: str) -> list[list[str]]:
    """A lunch hour every day and a Tuesday team meeting, for the next three weeks."""
    local = ZoneInfo(zone)
    today = datetime.now(local).date()
    busy = []
    for offset in range(21):
        day = today + timedelta(days=offset)
        lunch = datetime.combine(day, time(12), local)
        busy.append((lunch, lunch + timedelta(hours=1)))
        if day.weekday() == 1:
            team = datetime.combine(day, time(15), local)
            busy.append((team, team + timedelta(minutes=90)))
    return [
        [start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()] for start, end in busy
    ]
