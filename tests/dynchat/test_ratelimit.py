from __future__ import annotations

import pytest
import time_machine
from django.test import override_settings

from dynchat.ratelimit import Rate, retry_after


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("200/h", Rate(200, 3600)),
        ("50/15m", Rate(50, 900)),
        ("3/s", Rate(3, 1)),
        (" 10 / 2d ", Rate(10, 172800)),
    ],
)
def test_rates_are_read_from_settings_text(text: str, rate: Rate) -> None:
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["200", "200/week", "/h", "-1/h", "1.5/h"])
def test_unreadable_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a rate"):
        Rate.parse(text)


@override_settings(RATELIMITS={"test": "3/m"})
def test_the_fourth_request_in_a_minute_waits_until_the_window_ends() -> None:
    with time_machine.travel("2026-11-24 10:00:15Z", tick=False):
        assert [retry_after("test", "client") for _ in range(3)] == [None, None, None]
        assert retry_after("test", "client") == 45
        assert retry_after("test", "other client") is None
    with time_machine.travel("2026-11-24 10:01:00Z", tick=False):
        assert retry_after("test", "client") is None


@override_settings(RATELIMITS={"test": "1/m"}, RATELIMIT_ENABLED=False)
def test_limits_can_be_switched_off_for_benchmarks() -> None:
    assert [retry_after("test", "client") for _ in range(5)] == [None] * 5
