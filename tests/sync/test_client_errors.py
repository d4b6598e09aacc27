"""Every Marketo error code gets the right treatment: retry, new token, wait for the day, or stop.

The first tests read the classification table; the rest drive the client against the Marketo
sandbox over HTTP with scripted faults, recording backoff waits instead of sleeping them.
"""

from __future__ import annotations

import logging
import pickle
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.conf import settings

from sync.errors import (
    DailyQuotaReached,
    FatalMarketoError,
    MarketoError,
    RetriesExhausted,
    RetryClass,
    retry_class,
)
from sync.limiter import RedisLimiter
from sync.quota import next_quota_reset
from sync.sandbox import Fault, Limits, MarketoSandbox
from tests.sync.clients import SMALL, Connect

R, A, W, F = RetryClass.RETRY, RetryClass.REAUTH, RetryClass.WAIT, RetryClass.FATAL


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # Response-level errors (reference §5.1).
        ("500", R),
        ("502", R),
        ("601", A),
        ("602", A),
        ("603", F),
        ("604", R),
        ("605", F),
        ("606", R),
        ("607", W),
        ("608", R),
        ("609", F),
        ("610", F),
        ("611", R),
        ("612", F),
        ("613", F),
        ("614", R),
        ("615", R),
        ("616", F),
        ("701", F),
        ("702", F),
        ("703", F),
        ("704", F),
        ("709", F),
        ("710", F),
        ("711", F),
        ("712", F),
        ("713", R),
        ("714", F),
        ("718", F),
        ("719", R),
        # Record-level and bulk errors (reference §5.2).
        *[(str(code), F) for code in (1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009)],
        *[(str(code), F) for code in (1010, 1011, 1012, 1013, 1015, 1017, 1018, 1020, 1021)],
        *[(str(code), F) for code in (1025, 1026, 1027, 1028, 1035, 1036, 1037, 1042, 1048)],
        *[(str(code), F) for code in (1049, 1076, 1077, 1078, 1079, 1080)],
        ("1014", R),
        ("1016", R),
        ("1019", R),
        ("1022", R),
        # HTTP statuses and transport failures.
        ("HTTP 401", F),
        ("HTTP 404", F),
        ("HTTP 413", F),
        ("HTTP 414", F),
        ("HTTP 429", R),
        ("HTTP 500", R),
        ("HTTP 502", R),
        ("HTTP 503", R),
        ("HTTP 504", R),
        ("timeout", R),
        ("connection", R),
        # Codes nobody documented are not retried blindly.
        ("799", F),
        ("something new", F),
    ],
)
def test_each_code_has_its_retry_class(code: str, expected: RetryClass) -> None:
    assert retry_class(code) is expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Too many jobs in queue", R),
        ("Export daily quota exceeded", W),
        ("Export daily quota 500MB exceeded", W),
        ("Job already queued", F),  # the enqueue call takes it as success
    ],
)
def test_1029_depends_on_its_message(message: str, expected: RetryClass) -> None:
    assert retry_class("1029", message) is expected


def test_an_error_reads_well_for_a_marketer() -> None:
    assert str(FatalMarketoError("1003", "Invalid data")) == "Marketo 1003: Invalid data"
    assert str(RetriesExhausted("606", "Max rate limit exceeded", 5)) == (
        "Marketo 606: Max rate limit exceeded (gave up after 5 attempts)"
    )
    resume_at = datetime(2026, 3, 9, 5, 0, tzinfo=UTC)
    assert str(DailyQuotaReached("607", "Daily quota reached", resume_at)) == (
        "Marketo 607: Daily quota reached (resumes 2026-03-09 05:00 UTC)"
    )


@pytest.mark.parametrize(
    "error",
    [
        MarketoError("611", "System error"),
        FatalMarketoError("1003", "Invalid data"),
        RetriesExhausted("502", "Bad gateway", 5),
        DailyQuotaReached("607", "Daily quota reached", datetime(2026, 3, 9, 5, tzinfo=UTC)),
    ],
)
def test_errors_survive_pickling_for_task_results(error: MarketoError) -> None:
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert type(copy) is type(error)
    assert (copy.code, copy.message, copy.retry, str(copy)) == (
        error.code,
        error.message,
        error.retry,
        str(error),
    )


# --- against the sandbox -----------------------------------------------------------------------


@pytest.fixture
def sandbox(marketo_sandbox: Callable[..., MarketoSandbox]) -> MarketoSandbox:
    return marketo_sandbox(dataset=SMALL)


def error_count(sandbox: MarketoSandbox, code: str) -> int:
    return sandbox.stats().errors_by_code.get(code, 0)


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("604", "604"),
        ("608", "608"),
        ("611", "611"),
        ("614", "614"),
        ("615", "615"),
        ("713", "713"),
        (500, "HTTP 500"),
        (502, "HTTP 502"),
        (503, "HTTP 503"),
    ],
)
def test_a_transient_error_is_retried_after_a_backoff_and_logged(
    sandbox: MarketoSandbox,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
    fault: str | int,
    code: str,
) -> None:
    harness = connect(sandbox)
    sandbox.add_fault(Fault(fault))

    with caplog.at_level(logging.WARNING, logger="sync.client"):
        assert harness.client.describe_leads()

    assert error_count(sandbox, code) == 1
    assert sandbox.stats().requests == harness.client.calls == 2
    assert len(harness.waits) == 1
    assert 0 <= harness.waits[0] <= 1.0  # first backoff: up to backoff_base
    (record,) = [r for r in caplog.records if r.name == "sync.client"]
    assert code in record.getMessage()
    assert "retry in" in record.getMessage()


def test_a_rate_limit_error_waits_for_the_window_to_move_on(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox)
    sandbox.add_fault(Fault("606"))

    harness.client.describe_leads()

    assert error_count(sandbox, "606") == 1
    assert len(harness.waits) == 1
    assert harness.waits[0] >= 5


def test_a_real_rate_limit_from_a_competing_integration_is_absorbed(
    marketo_sandbox: Callable[..., MarketoSandbox], connect: Connect
) -> None:
    """Another integration uses 97 of the instance's 100 calls per (here) 10 s window."""
    sandbox = marketo_sandbox(
        dataset=SMALL, limits=Limits(window_seconds=10), competing_calls_per_window=97
    )
    # Our own budget is far above what is left, as when the competitor appears unannounced.
    limiter = RedisLimiter(settings.REDIS_URL, key=f"test-client-{uuid.uuid4().hex}", calls=1000)
    harness = connect(sandbox, limiter=limiter)

    for _ in range(10):
        harness.client.describe_leads()

    stats = sandbox.stats()
    assert stats.errors_by_code.get("606", 0) >= 1
    assert len(harness.waits) == stats.errors_by_code["606"]
    assert all(wait >= 5 for wait in harness.waits)
    assert stats.requests == 10 + stats.errors_by_code["606"]


def test_a_timeout_is_retried(sandbox: MarketoSandbox, connect: Connect) -> None:
    harness = connect(sandbox, timeout=0.5)
    sandbox.add_fault(Fault("timeout"))

    assert harness.client.describe_leads()

    assert error_count(sandbox, "timeout") == 1
    assert harness.client.calls == 2
    assert len(harness.waits) == 1


def test_retries_stop_after_max_attempts_with_growing_capped_backoff(
    sandbox: MarketoSandbox, connect: Connect
) -> None:
    harness = connect(sandbox, max_attempts=5, backoff_base=1.0, backoff_max=3.0)
    sandbox.add_fault(Fault(502, times=10))

    with pytest.raises(RetriesExhausted) as exhausted:
        harness.client.describe_leads()

    assert (exhausted.value.code, exhausted.value.attempts) == ("HTTP 502", 5)
    assert sandbox.stats().requests == 5
    assert len(harness.waits) == 4
    for wait, cap in zip(harness.waits, (1, 2, 3, 3), strict=True):
        assert 0 <= wait <= cap


def test_the_daily_quota_stops_every_process_after_exactly_one_refused_call(
    marketo_sandbox: Callable[..., MarketoSandbox], connect: Connect
) -> None:
    """M-5, the client's half: 607 at call 3, then not one more call until the block ends."""
    sandbox = marketo_sandbox(dataset=SMALL, limits=Limits(daily_quota=2))
    harness = connect(sandbox)
    other_process = connect(
        sandbox, limiter=RedisLimiter(settings.REDIS_URL, key=harness.limiter.key)
    )
    harness.client.describe_leads()
    harness.client.describe_leads()

    with pytest.raises(DailyQuotaReached) as refused:
        harness.client.describe_leads()

    resume_at = next_quota_reset(datetime.fromtimestamp(harness.clock(), UTC))
    assert refused.value.resume_at == resume_at
    assert refused.value.code == "607"
    assert harness.limiter.blocked_until() == resume_at
    assert sandbox.stats().requests == 3
    for client in (harness.client, other_process.client):
        with pytest.raises(DailyQuotaReached):
            client.describe_companies()
    assert sandbox.stats().requests == 3
    assert harness.waits == []

    sandbox.reset_daily_quota()
    harness.limiter.clear_block()
    assert other_process.client.describe_companies()
    assert sandbox.stats().requests == 4


@pytest.mark.parametrize("code", ["603", "605", "609", "610", "612", "701", "1003", "1006"])
def test_a_fatal_error_is_raised_at_once(
    sandbox: MarketoSandbox, connect: Connect, code: str
) -> None:
    harness = connect(sandbox)
    sandbox.add_fault(Fault(code))

    with pytest.raises(FatalMarketoError) as refused:
        harness.client.describe_leads()

    assert refused.value.code == code
    assert refused.value.retry is RetryClass.FATAL
    assert sandbox.stats().requests == 1
    assert harness.waits == []


def test_invalid_data_reads_well(sandbox: MarketoSandbox, connect: Connect) -> None:
    harness = connect(sandbox)
    sandbox.add_fault(Fault("1003"))

    with pytest.raises(FatalMarketoError, match=r"^Marketo 1003: Invalid data$"):
        harness.client.describe_leads()


def test_an_unknown_endpoint_is_610(sandbox: MarketoSandbox, connect: Connect) -> None:
    harness = connect(sandbox)

    with pytest.raises(FatalMarketoError) as refused:
        harness.client.request("GET", "/rest/v1/nothing-here.json")

    assert refused.value.code == "610"
    assert harness.client.calls == 1


def test_a_url_over_8_kb_is_a_fatal_414(sandbox: MarketoSandbox, connect: Connect) -> None:
    harness = connect(sandbox)

    with pytest.raises(FatalMarketoError) as refused:
        harness.client.request(
            "GET", "/rest/v1/leads.json", params={"filterType": "id", "filterValues": "1" * 9000}
        )

    assert refused.value.code == "HTTP 414"
    assert harness.client.calls == 1
    assert error_count(sandbox, "HTTP 414") == 1


def test_a_body_over_1_mb_is_a_fatal_413(sandbox: MarketoSandbox, connect: Connect) -> None:
    harness = connect(sandbox)
    records = [{"email": f"big{n}@example.com", "comments": "x" * 4_000} for n in range(300)]

    with pytest.raises(FatalMarketoError) as refused:
        harness.client.push_leads(records, program_name="Dynchat", source="Dynchat", reason="Chat")

    assert refused.value.code == "HTTP 413"
    assert harness.client.calls == 1
    assert harness.waits == []
