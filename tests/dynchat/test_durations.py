"""Durations read the way people say them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dynchat.templatetags.durations import duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (38.4, "38 s"), (60, "1 min"), (252, "4 min 12 s"), (7500, "2 h 5 min"),
     (7200, "2 h")],
)  # fmt: skip
def test_a_duration_reads_naturally(seconds: float, text: str) -> None:
    assert duration(timedelta(seconds=seconds)) == text


def test_no_duration_is_blank() -> None:
    assert duration(None) == ""
