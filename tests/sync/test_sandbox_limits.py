"""Marketo's limits in the sandbox: the 20-second rate window (606), concurrent calls (615) and
the daily quota (607) that resets at midnight US Central."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from sync.sandbox import Dataset, Fault, Limits, MarketoSandbox
from tests.sync.conftest import Api

DATA = Dataset(leads=100, companies=10, activities=500, seed=2)
CHICAGO = ZoneInfo("America/Chicago")
Start = Callable[..., MarketoSandbox]
MakeApi = Callable[[MarketoSandbox], Api]


def code(answer: dict[str, object]) -> str | None:
    errors = answer.get("errors")
    return errors[0]["code"] if isinstance(errors, list) else None


def test_more_calls_than_the_window_allows_get_606(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA, limits=Limits(calls_per_window=5, window_seconds=20))
    api = marketo_api(sandbox)
    answers = [api.get("/rest/v1/lead/1.json") for _ in range(6)]
    assert [code(a) for a in answers] == [None] * 5 + ["606"]
    assert answers[5]["errors"][0]["message"] == "Max rate limit '5' exceeded with in '20' secs"
    assert code(api.get("/rest/v1/lead/1.json")) == "606", "a refused call counts as well"

    sandbox.advance_clock(21)
    assert code(api.get("/rest/v1/lead/1.json")) is None
    stats = sandbox.stats()
    assert stats.calls == 8
    assert stats.max_calls_in_window == 7
    assert stats.calls_by_path == {"/rest/v1/lead/{id}.json": 8}
    assert stats.errors_by_code == {"606": 2}
    assert len(stats.call_times) == 8


def test_a_competing_integration_uses_up_part_of_the_window(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    """TESTPLAN M-2: the rate limit is shared with every integration on the instance."""
    sandbox = marketo_sandbox(
        dataset=DATA, limits=Limits(calls_per_window=10), competing_calls_per_window=6
    )
    api = marketo_api(sandbox)
    answers = [code(api.get("/rest/v1/lead/2.json")) for _ in range(5)]
    assert answers == [None] * 4 + ["606"]
    assert sandbox.stats().max_calls_in_window == 5, "only our own calls are reported"


def test_refused_calls_do_no_work(marketo_sandbox: Start, marketo_api: MakeApi) -> None:
    sandbox = marketo_sandbox(dataset=DATA, limits=Limits(calls_per_window=1))
    api = marketo_api(sandbox)
    api.get("/rest/v1/lead/1.json")
    body = {"programName": "Dynchat", "input": [{"email": "new.person@example.com"}]}
    assert code(api.post("/rest/v1/leads/push.json", body)) == "606"
    assert sandbox.lead_count() == 100


def test_more_calls_in_flight_than_allowed_get_615(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    sandbox = marketo_sandbox(dataset=DATA, limits=Limits(concurrency=1))
    api = marketo_api(sandbox)
    sandbox.add_fault(Fault("timeout", path="/lead/7"))
    held = threading.Thread(target=lambda: _quietly(api.token, sandbox.base_url), daemon=True)
    held.start()
    deadline = time.monotonic() + 10
    while sandbox.stats().max_concurrent < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    second = Api(sandbox).authenticate()
    assert code(second.get("/rest/v1/lead/8.json")) == "615"
    assert sandbox.stats().max_concurrent == 2
    sandbox.stop()
    held.join(timeout=10)
    assert not held.is_alive()


def _quietly(token: str, base_url: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with contextlib.suppress(requests.RequestException):
        requests.get(base_url + "/rest/v1/lead/7.json", headers=headers, timeout=8)


def test_the_daily_quota_answers_607_until_it_resets(
    marketo_sandbox: Start, marketo_api: MakeApi
) -> None:
    """TESTPLAN M-5: 607 once the day's calls are used, until the quota resets."""
    sandbox = marketo_sandbox(dataset=DATA, limits=Limits(daily_quota=3))
    api = marketo_api(sandbox)
    assert [code(api.get("/rest/v1/lead/3.json")) for _ in range(4)] == [None] * 3 + ["607"]
    assert api.get("/rest/v1/lead/3.json")["errors"][0]["message"] == "Daily quota reached"
    sandbox.reset_daily_quota()
    assert code(api.get("/rest/v1/lead/3.json")) is None


def midnights_after_dst_changes(now: datetime) -> list[datetime]:
    """The first US Central midnight after the next spring-forward and the next fall-back."""
    found: list[datetime] = []
    day = now.astimezone(CHICAGO).date() + timedelta(days=1)
    while len(found) < 2:
        start = datetime(day.year, day.month, day.day, tzinfo=CHICAGO)
        following = day + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=CHICAGO)
        if start.utcoffset() != end.utcoffset():
            found.append(end)
        day = following
    return sorted(found)


@pytest.mark.parametrize("which", [0, 1], ids=["first-change", "second-change"])
def test_the_daily_quota_resets_at_midnight_chicago_across_dst(
    which: int, marketo_sandbox: Start
) -> None:
    """TESTPLAN M-5: the reset follows America/Chicago's midnight, daylight saving included."""
    sandbox = marketo_sandbox(dataset=DATA, limits=Limits(daily_quota=2))
    midnight = midnights_after_dst_changes(datetime.now(CHICAGO))[which]

    def move_to(moment: datetime) -> Api:
        sandbox.advance_clock(moment.timestamp() - sandbox.clock.now())
        return Api(sandbox).authenticate()

    api = move_to(midnight - timedelta(hours=3))
    assert [code(api.get("/rest/v1/lead/4.json")) for _ in range(3)] == [None, None, "607"]
    api = move_to(midnight - timedelta(seconds=90))
    assert code(api.get("/rest/v1/lead/4.json")) == "607", "still the same US Central day"
    api = move_to(midnight + timedelta(seconds=30))
    assert code(api.get("/rest/v1/lead/4.json")) is None, "a new US Central day"
