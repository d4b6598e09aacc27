"""Export windows, Marketo times and typed values: the pure rules under the sync."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sync.fields import (
    SYNCED_ACTIVITY_TYPES,
    activity_type_groups,
    attributes_of,
    cookie_tokens,
    marketo_time,
    parse_time,
    typed,
    windows,
)

START = datetime(2026, 1, 1, 12, 30, 15, 123456, tzinfo=UTC)


def test_windows_are_31_days_minus_a_second_with_no_gap_and_no_overlap() -> None:
    """M-8: window boundaries contiguous, [start, start + 31 d - 1 s]."""
    spans = list(windows(START, START + timedelta(days=100)))
    assert len(spans) == 4
    for start, end in spans:
        assert end - start <= timedelta(days=31) - timedelta(seconds=1)
        assert start.microsecond == 0
        assert end.microsecond == 0
    for (_, end), (next_start, _) in itertools.pairwise(spans):
        assert next_start - end == timedelta(seconds=1)
    assert spans[0][0] == START.replace(microsecond=0)
    assert spans[-1][1] == (START + timedelta(days=100)).replace(microsecond=0)


def test_a_range_shorter_than_a_window_is_one_window() -> None:
    assert list(windows(START, START + timedelta(hours=1))) == [
        (START.replace(microsecond=0), (START + timedelta(hours=1)).replace(microsecond=0))
    ]


def test_marketo_times_are_utc_without_milliseconds() -> None:
    berlin = datetime(2026, 7, 1, 14, 0, 0, 999, tzinfo=UTC).astimezone()
    assert marketo_time(berlin) == "2026-07-01T14:00:00Z"


def test_marketo_offsets_without_a_colon_are_understood() -> None:
    assert parse_time("2014-09-17T22:31:49+0000") == datetime(2014, 9, 17, 22, 31, 49, tzinfo=UTC)
    assert parse_time("2024-01-02T03:04:05Z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("null") is None


def test_values_are_typed_by_their_marketo_data_type() -> None:
    assert typed("42", "integer") == 42
    assert typed("1250000.50", "currency") == 1250000.5
    assert typed("02139", "string") == "02139"
    assert typed("true", "boolean") is True
    assert typed("null", "string") is None
    assert typed("n/a", "integer") == "n/a"


def test_attributes_leave_out_empty_values() -> None:
    record = {"state": "CA", "leadScore": "17", "title": None}
    types = {"state": "string", "leadScore": "score", "title": "string"}
    assert attributes_of(record, types) == {"state": "CA", "leadScore": 17}


def test_munchkin_cookie_tokens_are_split_on_commas() -> None:
    assert cookie_tokens("_mch-a.com-1-1, _mch-b.com-2-2") == ["_mch-a.com-1-1", "_mch-b.com-2-2"]
    assert cookie_tokens("null") == []


def test_activity_types_go_in_groups_of_at_most_ten() -> None:
    groups = activity_type_groups()
    assert all(len(group) <= 10 for group in groups)
    assert [t for group in groups for t in group] == list(SYNCED_ACTIVITY_TYPES)
