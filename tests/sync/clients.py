"""A Marketo client for tests whose sleeps are recorded, not slept (the client tests' harness).

Each recorded sleep moves the sandbox's clock and the client's clock on together, so a 5 s
backoff or a token's last seconds pass in an instant. The ``connect`` fixture (registered in
tests/sync/conftest.py) hands out such clients and resets their limiters afterwards.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from django.conf import settings

from sync.client import MarketoClient
from sync.limiter import RedisLimiter
from sync.sandbox import Dataset, MarketoSandbox

SMALL = Dataset(leads=2_000, companies=100, activities=20_000, seed=7)


@dataclass
class Harness:
    sandbox: MarketoSandbox
    limiter: RedisLimiter
    waits: list[float] = field(default_factory=list)
    sent: list[requests.PreparedRequest] = field(default_factory=list)
    ahead: float = 0.0  # how far the client's clock runs ahead of the wall clock
    client: MarketoClient = field(init=False)

    def clock(self) -> float:
        return time.time() + self.ahead

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.pass_time(seconds)

    def pass_time(self, seconds: float) -> None:
        self.sandbox.advance_clock(seconds)
        self.ahead += seconds

    def record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.sent.append(response.request)


type Connect = Callable[..., Harness]


def connector(limiters: list[RedisLimiter]) -> Connect:
    """``connect(sandbox, limiter=None, **MarketoClient options)`` → a Harness."""

    def connect(
        sandbox: MarketoSandbox, limiter: RedisLimiter | None = None, **options: Any
    ) -> Harness:
        if limiter is None:
            limiter = RedisLimiter(settings.REDIS_URL, key=f"test-client-{uuid.uuid4().hex}")
        limiters.append(limiter)  # reset when the test ends
        harness = Harness(sandbox, limiter)
        session = requests.Session()
        session.hooks["response"].append(harness.record)
        options.setdefault("timeout", 10)
        harness.client = MarketoClient(
            sandbox.base_url,
            sandbox.client_id,
            sandbox.client_secret,
            limiter=limiter,
            sleep=harness.sleep,
            clock=harness.clock,
            session=session,
            **options,
        )
        return harness

    return connect


@pytest.fixture
def connect() -> Iterator[Connect]:
    """``connect(sandbox, limiter=None, **MarketoClient options)`` → a Harness."""
    limiters: list[RedisLimiter] = []
    yield connector(limiters)
    for limiter in limiters:
        limiter.reset()
