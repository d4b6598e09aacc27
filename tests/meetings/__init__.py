"""Helpers for the booking tests: slots on the booking grid, and requests released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django.utils import timezone

from meetings.refusals import BookingRefused
from routing.assignment import BookingRequest

Outcome = Any  # what the work returned, or the BookingRefused / other exception it raised


def slot(days: int = 3, hour: int = 10, minute: int = 0) -> datetime:
    """A start ``days`` from today at hour:minute UTC (past the default 24 h notice)."""
    day = timezone.now().astimezone(UTC) + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def request(site_id: int, start: datetime, **fields: Any) -> BookingRequest:
    """A booking request with a visitor's e-mail; the fields override."""
    values: dict[str, Any] = {
        "site_id": site_id,
        "start": start,
        "duration_minutes": 30,
        "lead_email": "visitor@example.com",
        "lead_name": "Vera Visitor",
    }
    values.update(fields)
    return BookingRequest(**values)


def together(count: int, work: Callable[[int], Any], *, timeout: float = 120) -> list[Outcome]:
    """Run ``work(0)``, …, ``work(count - 1)`` in threads released at once by a barrier.

    Each thread has its own database connection, closed when it ends. A refusal or any other
    exception is returned in place of the result, so the caller can count them.
    """
    barrier = threading.Barrier(count)
    outcomes: list[Outcome] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout)
            outcomes[index] = work(index)
        except BaseException as error:  # reported to the test as the outcome
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a booking thread hung"
    return outcomes


def refusals(outcomes: list[Outcome]) -> list[str]:
    return [outcome.code for outcome in outcomes if isinstance(outcome, BookingRefused)]


def failures(outcomes: list[Outcome]) -> list[BaseException]:
    """Errors that are not refusals: what an API would answer with a 500."""
    return [
        outcome
        for outcome in outcomes
        if isinstance(outcome, BaseException) and not isinstance(outcome, BookingRefused)
    ]
