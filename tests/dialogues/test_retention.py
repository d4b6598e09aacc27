"""The 90-day purge: the exact UTC boundary (P-1), the clock and share guards (P-3), its scope
(P-4), the daily task and the management command."""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dialogues import retention, services
from dialogues.models import Conversation, ConversationEvent, EventKind, Visitor
from dialogues.report_models import DailyCard, DailyGoal, DailyMetric, DailyPage, PurgeRun
from dialogues.tasks import purge_expired
from dynchat.models import Site, User
from meetings.models import Meeting, MeetingStatus
from sync.models import MarketoLead, OutboxKind, OutboxMessage
from tests.dialogues.factories import new_dialogue

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NINETY_DAYS_US = 90 * 24 * 3600 * 1_000_000
ZONES = ("America/New_York", "Europe/Berlin")
EVENTS = ConversationEvent._meta.label


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, in integers: the oracle's own arithmetic."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def oracle_cutoff(now: datetime) -> datetime:
    return EPOCH + timedelta(microseconds=micros(now) - NINETY_DAYS_US)


@pytest.fixture
def kiritimati(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time is UTC+14 (set after any TIME_ZONE override, restored before)."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    assert time.localtime().tm_gmtoff == 14 * 3600
    yield
    monkeypatch.undo()
    time.tzset()


def conversations(site: Site, count: int = 1) -> list[Conversation]:
    version = services.publish(new_dialogue(site))
    visitors = Visitor.objects.bulk_create(
        Visitor(site=site, key=f"retention-{n}") for n in range(count)
    )
    return Conversation.objects.bulk_create(
        Conversation(visitor=visitor, dialogue_id=version.dialogue_id, version=version)
        for visitor in visitors
    )


def events_at(conversation: Conversation, instants: list[datetime]) -> dict[int, datetime]:
    made = ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation=conversation, kind=EventKind.ANSWER, occurred_at=at)
        for at in instants
    )
    return {event.pk: event.occurred_at for event in made}


def event_ids() -> set[int]:
    return set(ConversationEvent.objects.values_list("pk", flat=True))


def dst_changes(zone: str, end: datetime, days: int = 400) -> list[datetime]:
    """The UTC instants (to the hour) at which ``zone``'s offset changed in the ``days`` before."""
    tz = ZoneInfo(zone)
    start = end.replace(minute=0, second=0, microsecond=0) - timedelta(days=days)
    hours = [start + timedelta(hours=n) for n in range(days * 24)]
    return [
        b
        for a, b in itertools.pairwise(hours)
        if a.astimezone(tz).utcoffset() != b.astimezone(tz).utcoffset()
    ]


# P-1: the boundary


def boundary_instants(now: datetime, zone: str) -> list[datetime]:
    """Instants at and around the cutoff, around each DST change of ``zone`` in the last 400
    days, and where a purge counting 90 days in local wall time would put its cutoff."""
    cutoff = oracle_cutoff(now)
    near = [timedelta(hours=-1), timedelta(seconds=-1), timedelta(microseconds=-1), timedelta(0),
            timedelta(microseconds=1), timedelta(seconds=1), timedelta(hours=1)]  # fmt: skip
    instants = [cutoff + delta for delta in near]
    for change in dst_changes(zone, now):
        instants += [change + timedelta(minutes=30 * n) for n in range(-6, 7)]
    wall_time_cutoff = (now.astimezone(ZoneInfo(zone)) - timedelta(days=90)).astimezone(UTC)
    instants += [wall_time_cutoff + delta for delta in near]
    return instants


@pytest.mark.parametrize("zone", ZONES)
def test_p1_events_before_the_utc_cutoff_go_and_all_others_stay(
    site: Site, zone: str, kiritimati: None
) -> None:
    """P-1: exact set equality with the oracle, whatever TIME_ZONE and the process's TZ."""
    now = timezone.now()  # the database's clock must agree with the frozen one (P-3)
    (conversation,) = conversations(site)
    with override_settings(TIME_ZONE=zone):
        os.environ["TZ"] = "Pacific/Kiritimati"  # TIME_ZONE's override set it to ``zone``
        time.tzset()
        with time_machine.travel(now, tick=False):
            seeded = events_at(conversation, boundary_instants(now, zone))
            expired = {pk for pk, at in seeded.items() if micros(at) < micros(now) - NINETY_DAYS_US}
            recent = events_at(conversation, [now - timedelta(days=1)] * (len(expired) + 1))
            run = retention.purge()
    expected = (set(seeded) - expired) | set(recent)
    assert event_ids() == expected
    assert expired, "some seeded events have expired"
    assert set(seeded) - expired, "and some have not"
    assert run.outcome == PurgeRun.Outcome.DONE
    assert run.deleted == {EVENTS: len(expired)}
    assert run.cutoff == oracle_cutoff(now)


def test_p1_the_cutoff_is_utc_arithmetic_at_every_instant_around_dst_changes(
    kiritimati: None,
) -> None:
    """P-1 (unit): with the clock frozen where 90 days back crosses or lands on a DST change."""
    latest = datetime(2027, 1, 1, tzinfo=UTC)
    for zone in ZONES:
        with override_settings(TIME_ZONE=zone):
            os.environ["TZ"] = "Pacific/Kiritimati"
            time.tzset()
            for change in dst_changes(zone, latest, days=800):
                for delta in (-3600, -1, 0, 1, 3600):
                    for now in (change + timedelta(seconds=delta),
                                change + timedelta(days=90, seconds=delta)):  # fmt: skip
                        with time_machine.travel(now, tick=False):
                            assert retention.cutoff() == oracle_cutoff(now), (zone, now)


@hypothesis_settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()
    )
)
def test_p1_the_cutoff_of_any_aware_instant_matches_the_oracle(now: datetime) -> None:
    assert retention.cutoff(now) == oracle_cutoff(now)
    assert retention.cutoff(now).utcoffset() == timedelta(0)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        retention.cutoff(datetime(2026, 1, 1))


# P-3: the guards


@pytest.fixture
def half_expired(site: Site) -> tuple[set[int], set[int]]:
    """Three events older than 90 days, two recent ones: 60 % of the table has expired."""
    (conversation,) = conversations(site)
    now = timezone.now()
    old = events_at(conversation, [now - timedelta(days=days) for days in (91, 200, 400)])
    new = events_at(conversation, [now - timedelta(days=days) for days in (1, 89)])
    return set(old), set(new)


def test_p3_a_clock_ten_years_ahead_deletes_nothing_and_alerts(
    half_expired: tuple[set[int], set[int]], caplog: pytest.LogCaptureFixture
) -> None:
    """P-3: the app clock +10 years against the database's now(): refused, even with override."""
    before = event_ids()
    ahead = timezone.now() + timedelta(days=3653)
    with (
        caplog.at_level(logging.ERROR, logger="dialogues.retention"),
        time_machine.travel(ahead, tick=False),
    ):
        run = retention.purge(override=True)
    assert run.outcome == PurgeRun.Outcome.REFUSED
    assert run.deleted == {EVENTS: 0}
    assert run.batches == 0
    assert "clock" in run.reason
    assert event_ids() == before
    assert run.started_at.year == timezone.now().year, "the database's time is recorded"
    alerts = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(alerts) == 1
    assert "refused" in alerts[0].getMessage()


@pytest.mark.parametrize("minutes", [-6, 6])
def test_p3_a_clock_more_than_five_minutes_off_is_refused(
    half_expired: tuple[set[int], set[int]], minutes: int
) -> None:
    before = event_ids()
    run = retention.purge(timezone.now() + timedelta(minutes=minutes), override=True)
    assert run.outcome == PurgeRun.Outcome.REFUSED
    assert event_ids() == before


def test_p3_a_clock_a_few_minutes_off_is_tolerated(
    half_expired: tuple[set[int], set[int]],
) -> None:
    _, new = half_expired
    run = retention.purge(timezone.now() - timedelta(minutes=4), override=True)
    assert run.outcome == PurgeRun.Outcome.DONE
    assert event_ids() == new


def test_p3_more_than_half_of_the_table_is_refused_unless_overridden(
    half_expired: tuple[set[int], set[int]], caplog: pytest.LogCaptureFixture
) -> None:
    """P-3: 3 of 5 events expired → refused (alert logged); the operator's override deletes."""
    old, new = half_expired
    with caplog.at_level(logging.ERROR, logger="dialogues.retention"):
        refused = retention.purge()
    assert refused.outcome == PurgeRun.Outcome.REFUSED
    assert "3 of 5" in refused.reason
    assert "--override" in refused.reason
    assert event_ids() == old | new
    assert any(r.levelno == logging.ERROR for r in caplog.records)
    done = retention.purge(override=True)
    assert done.outcome == PurgeRun.Outcome.DONE
    assert done.override
    assert done.deleted == {EVENTS: 3}
    assert event_ids() == new


def test_p3_exactly_half_of_the_table_is_allowed(site: Site) -> None:
    (conversation,) = conversations(site)
    now = timezone.now()
    events_at(conversation, [now - timedelta(days=100), now - timedelta(days=10)])
    assert retention.purge().deleted == {EVENTS: 1}


# P-4: the scope


def snapshot(*, leaving_out: set[str]) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table of the database, but ``leaving_out``'s."""
    tables: dict[str, list[tuple[str, ...]]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table not in leaving_out:
                cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the catalogue)
                tables[table] = sorted(tuple(map(repr, row)) for row in cursor.fetchall())
    return tables


def test_p4_the_purge_changes_only_the_events_and_its_own_log(site: Site, agent: User) -> None:
    """P-4: a row-level diff of the whole database before and after the purge."""
    long_ago = timezone.now() - timedelta(days=120)
    first, second = conversations(site, 2)
    Visitor.objects.update(created_at=long_ago, last_seen_at=long_ago, email="ann@example.com")
    Conversation.objects.update(started_at=long_ago, engaged_at=long_ago, completed_at=long_ago)
    old = events_at(first, [long_ago] * 3) | events_at(second, [long_ago])
    new = events_at(first, [timezone.now()] * 5)
    MarketoLead.objects.create(id=7, email="ann@example.com", first_name="Ann")
    Meeting.objects.create(
        site=site, dialogue=first.dialogue, conversation_id=first.pk, agent=agent,
        lead_email="ann@example.com", lead_name="Ann", starts_at=long_ago,
        ends_at=long_ago + timedelta(minutes=30), status=MeetingStatus.COMPLETED,
        created_at=long_ago,
    )  # fmt: skip
    OutboxMessage.objects.create(
        kind=OutboxKind.PUSH_LEAD, email="ann@example.com", state="sent", created_at=long_ago
    )
    day = long_ago.date()
    DailyMetric.objects.create(
        site=site, dialogue=first.dialogue, day=day, known=True, triggered=2, engaged=2
    )
    DailyGoal.objects.create(dialogue=first.dialogue, day=day, known=True, goal="Hi", reached=1)
    DailyPage.objects.create(dialogue=first.dialogue, day=day, known=False, page="/", triggered=2)
    DailyCard.objects.create(version=first.version, card="hello", day=day, reached=2, answered=1)
    reporting = {ConversationEvent._meta.db_table, PurgeRun._meta.db_table}
    before = snapshot(leaving_out=reporting)
    for model in (Visitor, Conversation, MarketoLead, Meeting, OutboxMessage, DailyMetric,
                  DailyGoal, DailyPage, DailyCard):  # fmt: skip
        assert before[model._meta.db_table], f"{model.__name__} has rows to keep"

    run = retention.purge()

    assert run.deleted == {EVENTS: len(old)}
    assert event_ids() == set(new)
    assert snapshot(leaving_out=reporting) == before


# The daily task, the command


def test_the_daily_task_purges(half_expired: tuple[set[int], set[int]]) -> None:
    old, new = half_expired
    ConversationEvent.objects.filter(pk__in=old).update(occurred_at=timezone.now())
    ConversationEvent.objects.filter(pk=min(old)).update(
        occurred_at=timezone.now() - timedelta(days=91)
    )
    purge_expired.delay()
    assert event_ids() == (old | new) - {min(old)}
    assert PurgeRun.objects.get().outcome == PurgeRun.Outcome.DONE


def test_beat_runs_the_purge_daily() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["reports-purge"]
    assert entry == {"task": "dialogues.purge_expired", "schedule": 86400.0}


def test_the_command_says_what_it_deleted(half_expired: tuple[set[int], set[int]]) -> None:
    _, new = half_expired
    out = StringIO()
    call_command("purge_reporting_data", "--override", "--batch", "2", stdout=out)
    assert "Deleted 3 conversation events older than" in out.getvalue()
    assert "in 2 batches of at most 2" in out.getvalue()
    assert event_ids() == new


def test_the_command_says_why_it_refused(half_expired: tuple[set[int], set[int]]) -> None:
    with pytest.raises(CommandError, match="Refused: 3 of 5 events"):
        call_command("purge_reporting_data", stdout=StringIO())
    assert PurgeRun.objects.get().outcome == PurgeRun.Outcome.REFUSED


def test_a_second_run_deletes_nothing(half_expired: tuple[set[int], set[int]]) -> None:
    retention.purge(override=True)
    again = retention.purge()
    assert again.outcome == PurgeRun.Outcome.DONE
    assert again.deleted == {EVENTS: 0}
    assert again.batches == 0
