"""Agents with a connected calendar, as if they had gone through the Calendar page.

``connected_agent(calendar_sandbox, "ann@example.com")`` creates the agent, has the sandbox grant
tokens for that account, stores the connection (sealed) through ``store_connection`` and lets
``calendar_connected`` reach its receivers (routing adds the agent to the rotation) even inside a
test transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from django.test import TestCase

from calendars.models import BookingRules, Provider
from calendars.providers.base import Grant, TokenSet
from calendars.services import store_connection
from dynchat.models import Role, User

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Every day of the week, all day long.
ALWAYS: dict[str, list[list[str]]] = {day: [["00:00", "24:00"]] for day in DAYS}


def office_hours(start: str = "09:00", end: str = "17:00") -> dict[str, list[list[str]]]:
    """Monday to Friday from ``start`` to ``end`` (the agent's own time zone); weekends off."""
    return {day: ([[start, end]] if day not in ("sat", "sun") else []) for day in DAYS}


class IssuesTokens(Protocol):
    def issue_tokens(
        self, provider: str, email: str, *, expires_in: int = 3600
    ) -> dict[str, Any]: ...


def grant_for(
    sandbox: IssuesTokens, email: str, provider: str = Provider.GOOGLE, *, expires_in: int = 3600
) -> Grant:
    """A grant the sandbox issued for ``email``, as the OAuth callback would have produced."""
    issued = sandbox.issue_tokens(str(provider), email, expires_in=expires_in)
    return Grant(
        tokens=TokenSet(
            access_token=issued["access_token"],
            refresh_token=issued["refresh_token"],
            expires_at=datetime.now(UTC) + timedelta(seconds=int(issued["expires_in"])),
        ),
        account_email=email,
    )


def connected_agent(
    sandbox: IssuesTokens,
    email: str,
    *,
    provider: str = Provider.GOOGLE,
    name: str = "",
    time_zone: str = "UTC",
    hours: dict[str, list[list[str]]] | None = None,
    expires_in: int = 3600,
    **rules: Any,
) -> User:
    """An agent whose ``provider`` calendar (the sandbox account ``email``) is connected, with
    booking rules ``hours`` (default ALWAYS) and any other BookingRules field from ``rules``."""
    agent = User.objects.create_user(
        email,
        "correct horse battery",
        name=name or email.split("@")[0].title(),
        role=Role.AGENT,
        time_zone=time_zone,
    )
    grant = grant_for(sandbox, email, provider, expires_in=expires_in)
    # store_connection announces on commit; run those callbacks now even in a test transaction
    # (outside one, they have already run when the block ends and nothing is captured).
    with TestCase.captureOnCommitCallbacks(execute=True):
        store_connection(agent, str(provider), grant)
    BookingRules.objects.filter(agent=agent).update(working_hours=hours or ALWAYS, **rules)
    return agent
